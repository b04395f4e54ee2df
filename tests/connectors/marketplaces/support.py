"""Shared by the marketplace connector tests: a clock that records waits, realistic orders (the corpus
Shopify order, the WooCommerce and Amazon fixtures of the mapping tests, Amazon's sandbox examples)
copied under new ids and times, and connectors wired to the fakes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import ChannelContext, InboundConnector, InboundItem
from connectors.marketplaces.amazon_spapi import AmazonSpApiConnector
from connectors.marketplaces.cursor import MemoryStateStore
from connectors.marketplaces.settings import AmazonSpApiSettings, ShopifyRestSettings, WooCommerceRestSettings
from connectors.marketplaces.shopify_rest import ShopifyRestConnector
from connectors.marketplaces.woocommerce_rest import WooCommerceRestConnector
from tests.connectors.conftest import DictSecrets
from tests.connectors.marketplaces.fakes import FakeAmazon, FakeShopify, FakeWooCommerce
from tests.corpus import entries, require_corpus
from tests.mappings.marketplace.support import FIXTURES, amazon_model_entry, woocommerce_order

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
WOO_KEY, WOO_SECRET = (
    "ck_5f2b1e0c9a8d7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
    "cs_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b",
)
LWA_ID, LWA_SECRET = "amzn1.application-oa2-client.0123456789abcdef", "amzn1.oa2-cs.v1.fedcba9876543210"
LWA_REFRESH = "Atzr|IwEBIExampleRefreshToken0123456789"
SECRETS = {
    "ACME_SHOPIFY_TOKEN": SHOPIFY_TOKEN,
    "ACME_WOO_KEY": WOO_KEY,
    "ACME_WOO_SECRET": WOO_SECRET,
    "ACME_LWA_ID": LWA_ID,
    "ACME_LWA_SECRET": LWA_SECRET,
    "ACME_LWA_REFRESH": LWA_REFRESH,
}
SECRET_VALUES = tuple(SECRETS.values())


class FakeClock:
    """Time that moves only when someone sleeps; every sleep is recorded."""

    def __init__(self, now: datetime = NOW) -> None:
        self._now = now
        self._monotonic = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._now += timedelta(seconds=seconds)


def context(channel: str = "shop", partner: str | None = "acme", limit: int = 1 << 20) -> ChannelContext:
    return ChannelContext(channel, partner, limit)


def iso(moment: datetime, *, zone: str = "Z") -> str:
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + zone


# Realistic orders ------------------------------------------------------------------------------------


def shopify_corpus_order() -> dict[str, Any]:
    require_corpus()
    [entry] = entries(lambda e: e.file == "json/shopify_order_rest_fixture_shopify_python_api.json")
    return json.loads(entry.path.read_text(encoding="utf-8"))["order"]  # type: ignore[no-any-return]


def shopify_orders(
    count: int, start: datetime, *, step: timedelta = timedelta(minutes=1)
) -> list[dict[str, Any]]:
    """The corpus order under `count` ids, updated one `step` apart from `start`."""
    base = shopify_corpus_order()
    made = []
    for index in range(count):
        order = copy.deepcopy(base)
        order["id"] = 450789469 + index
        order["name"] = f"#{1001 + index}"
        order["order_number"] = 1001 + index
        order["updated_at"] = (start + step * index).astimezone(UTC).isoformat()
        made.append(order)
    return made


def woo_orders(
    count: int, start: datetime, *, step: timedelta = timedelta(minutes=1)
) -> list[dict[str, Any]]:
    base = woocommerce_order()
    made = []
    for index in range(count):
        order = copy.deepcopy(base)
        order["id"] = 727 + index
        order["number"] = str(727 + index)
        moment = start + step * index
        order["date_modified_gmt"] = iso(moment, zone="")
        order["date_modified"] = iso(moment + timedelta(hours=1), zone="")  # the site's zone: not read
        made.append(order)
    return made


def amazon_fixture() -> dict[str, Any]:
    return json.loads((FIXTURES / "amazon_order_two_items.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sandbox_orders() -> list[dict[str, Any]]:
    """The orders of the getOrders sandbox example TEST_CASE_200 in Amazon's Orders v0 model (corpus)."""
    require_corpus()
    model = json.loads(amazon_model_entry().path.read_text(encoding="utf-8"))
    static = model["paths"]["/orders/v0/orders"]["get"]["responses"]["200"]["x-amzn-api-sandbox"]["static"]
    [example] = [
        s
        for s in static
        if s["request"]["parameters"].get("CreatedAfter", {}).get("value") == "TEST_CASE_200"
    ]
    return example["response"]["payload"]["Orders"]  # type: ignore[no-any-return]


def amazon_orders(
    count: int, start: datetime, *, step: timedelta = timedelta(minutes=1)
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The fixture order under `count` ids, and each one's items."""
    document = amazon_fixture()
    order, items = document["getOrder"]["payload"], document["getOrderItems"]["payload"]["OrderItems"]
    orders, by_id = [], {}
    for index in range(count):
        made = copy.deepcopy(order)
        made["AmazonOrderId"] = f"302-4927301-{8265012 + index:07d}"
        made["LastUpdateDate"] = iso(start + step * index)
        orders.append(made)
        by_id[made["AmazonOrderId"]] = copy.deepcopy(items)
    return orders, by_id


# Connectors wired to fakes ---------------------------------------------------------------------------


def shopify(
    fake: FakeShopify, clock: FakeClock, store: MemoryStateStore, limit: int = 1 << 20, **settings: Any
) -> ShopifyRestConnector:
    made = ShopifyRestSettings.model_validate(
        {"shop_url": fake.url, "access_token_secret": "ACME_SHOPIFY_TOKEN", "since": "2024-03-01T00:00:00Z"}
        | settings
    )
    return ShopifyRestConnector(made, DictSecrets(SECRETS), context(limit=limit), clock=clock, store=store)


def woocommerce(
    fake: FakeWooCommerce, clock: FakeClock, store: MemoryStateStore, **settings: Any
) -> WooCommerceRestConnector:
    made = WooCommerceRestSettings.model_validate(
        {
            "site_url": fake.url,
            "consumer_key_secret": "ACME_WOO_KEY",
            "consumer_secret_secret": "ACME_WOO_SECRET",
            "since": "2024-03-01T00:00:00Z",
        }
        | settings
    )
    return WooCommerceRestConnector(made, DictSecrets(SECRETS), context(), clock=clock, store=store)


def amazon_settings(fake: FakeAmazon, **settings: Any) -> dict[str, Any]:
    return {
        "endpoint": fake.url,
        "token_url": fake.url + "/auth/o2/token",
        "marketplace_ids": ["A1PA6795UKMFR9"],
        "client_id_secret": "ACME_LWA_ID",
        "client_secret_secret": "ACME_LWA_SECRET",
        "refresh_token_secret": "ACME_LWA_REFRESH",
        "since": "2024-03-01T00:00:00Z",
        "window_hours": 24 * 31,
    } | settings


def amazon(
    fake: FakeAmazon,
    clock: FakeClock,
    store: MemoryStateStore,
    *,
    secrets: DictSecrets | None = None,
    **settings: Any,
) -> AmazonSpApiConnector:
    made = AmazonSpApiSettings.model_validate(amazon_settings(fake, **settings))
    return AmazonSpApiConnector(made, secrets or DictSecrets(SECRETS), context(), clock=clock, store=store)


async def confirm_all(connector: InboundConnector, items: list[InboundItem] | Any) -> None:
    for number, item in enumerate(items):
        await connector.confirm(item, document_id=f"DOC{number}", accepted=True)


def payloads(items: Any) -> list[dict[str, Any]]:
    return [json.loads(item.payload) for item in items]
