"""Shopify orders, polled over the REST Admin API.

`GET /admin/api/{version}/orders.json?status=any&updated_at_min=…&limit=…&order=updated_at asc` with
`X-Shopify-Access-Token`. The next page is the `Link: <…page_info=…>; rel="next"` URL, followed exactly
as given (with `page_info` Shopify refuses the other filters) and only back to the shop itself.
Rate limits: a 429 waits for its `Retry-After`; when `X-Shopify-Shop-Api-Call-Limit` (used/size)
reaches `call_limit_threshold`, the next request waits until the shop's bucket has drained below it
at `leak_rate`.

Each order becomes one item: the bare order object, the shape an orders webhook delivers, named
`shopify-order-<id>.json`. A poll stops paging at `max_orders_per_poll` only while the pages come in
time order; if Shopify ignored `order=updated_at asc`, every page is read before anything is
offered, so no order is passed over.

Shopify calls the REST Admin API legacy since 2024-10, and without the `read_all_orders` scope only
the last 60 days of orders are readable: a `since` further back finds nothing older.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.base import ChannelContext, Check, ConnectorSpec, InboundItem, SecretSource
from connectors.marketplaces.clock import Clock, SystemClock
from connectors.marketplaces.cursor import StateStore, default_store, parse_time
from connectors.marketplaces.feed import FetchedOrder, OrderFeed
from connectors.marketplaces.http import ApiClient, Reply, check_name
from connectors.marketplaces.settings import ShopifyRestSettings
from gateway.core.errors import ConnectorRejected, GatewayError

KIND = "shopify-rest"
CODE = "SHOPIFY"
CALL_LIMIT = "x-shopify-shop-api-call-limit"
_CALL_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

log = logging.getLogger("ordergate.connectors.marketplaces")


class ShopifyRestConnector:
    def __init__(
        self,
        settings: ShopifyRestSettings,
        secrets: SecretSource,
        context: ChannelContext,
        *,
        clock: Clock | None = None,
        store: StateStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.channel = context.channel
        self.secrets = secrets
        self.clock = clock or SystemClock()
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self.api = ApiClient(
            service="Shopify",
            code=CODE,
            timeout=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            max_retry_after=settings.max_retry_after_seconds,
            clock=self.clock,
            transport=transport,
        )
        self.feed = OrderFeed(
            kind=KIND,
            marketplace="shopify",
            source=settings.shop_url,
            context=context,
            store=store or default_store(),
            overlap=self.overlap,
            first=lambda: settings.first_cursor_time(self.clock.now()),
        )

    def __repr__(self) -> str:
        return f"ShopifyRestConnector(channel={self.channel!r}, shop={self.settings.shop_url!r})"

    def _url(self, resource: str) -> str:
        return f"{self.settings.shop_url}/admin/api/{self.settings.api_version}/{resource}.json"

    async def _get(self, url: str | httpx.URL, params: Mapping[str, str | int] | None, what: str) -> Reply:
        token = self.secrets.get(self.settings.access_token_secret).get_secret_value()
        reply = await self.api.request(
            "GET",
            url,
            params=params,
            headers={"X-Shopify-Access-Token": token},
            what=what,
            credentials=f"the access token in secret {self.settings.access_token_secret} and its scopes",
        )
        await self._pace(reply.headers)
        return reply

    async def _pace(self, headers: Mapping[str, str]) -> None:
        """Wait while the shop's leaky bucket is nearly full, rather than run into a 429."""
        found = _CALL_LIMIT.match(headers.get(CALL_LIMIT, ""))
        if not found:
            return
        used, size = int(found.group(1)), int(found.group(2))
        threshold = size * self.settings.call_limit_threshold
        if size and used >= threshold:
            await self.clock.sleep((used - threshold + 1) / self.settings.leak_rate)

    # Inbound ----------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[InboundItem]:
        settings = self.settings
        cursor = await self.feed.cursor()
        url: str | httpx.URL = self._url("orders")
        params: dict[str, str | int] | None = {
            "status": "any",
            "updated_at_min": _shopify_time(cursor.at - self.overlap),
            "limit": settings.page_size,
            "order": "updated_at asc",
        }
        fetched: list[FetchedOrder] = []
        in_order = True
        while True:
            reply = await self._get(url, params, "list orders")
            for index, order in enumerate(_orders(reply)):
                found = _fetched(order, index)
                if fetched and found.updated < fetched[-1].updated and in_order:
                    in_order = False
                    log.warning(
                        "channel %s: Shopify lists orders out of time order; reading every page", self.channel
                    )
                fetched.append(found)
            if reply.next_url is None:
                break
            if in_order and len(self.feed.fresh(cursor, fetched)) >= settings.max_orders_per_poll:
                break
            url, params = self.api.same_origin(reply.next_url, settings.shop_url, "list orders"), None
        return await self.feed.offer(self.feed.fresh(cursor, fetched)[: settings.max_orders_per_poll])

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        await self.feed.confirm(item)

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        try:
            reply = await self._get(self._url("shop"), None, "read the shop")
            data = reply.json("read the shop", CODE)
        except GatewayError as error:
            return [Check(check_name(error), False, error.message)]
        shop = data.get("shop") if isinstance(data, dict) else None
        name = shop.get("name") if isinstance(shop, dict) else None
        checks = [
            Check(
                "authentication",
                True,
                f"{self.settings.shop_url} (API {self.settings.api_version}) took the access token"
                + (f": shop {name!r}" if name else ""),
            )
        ]
        try:
            await self._get(self._url("orders"), {"status": "any", "limit": 1, "fields": "id"}, "list orders")
            checks.append(Check("orders", True, "the token may list orders (read_orders)"))
        except GatewayError as error:
            checks.append(Check("orders", False, error.message))
        checks.append(await self.feed.check())
        return checks

    async def aclose(self) -> None:
        await self.api.aclose()


def _shopify_time(value: datetime) -> str:
    """Whole seconds, rounded down (the filter is inclusive, so nothing at the bound is lost)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _orders(reply: Reply) -> list[Any]:
    data = reply.json("list orders", CODE)
    orders = data.get("orders") if isinstance(data, dict) else None
    if not isinstance(orders, list):
        raise ConnectorRejected(
            'list orders: the answer has no "orders" list; is shop_url the shop\'s own URL?',
            code=f"{CODE}_BAD_RESPONSE",
        )
    return orders


def _fetched(order: Any, index: int) -> FetchedOrder:
    order_id = order.get("id") if isinstance(order, dict) else None
    updated = parse_time(order.get("updated_at")) if isinstance(order, dict) else None
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or updated is None:
        raise ConnectorRejected(
            f"list orders: orders[{index}] has no id or no readable updated_at",
            code=f"{CODE}_BAD_ORDER",
            element=f"orders[{index}]",
        )
    return FetchedOrder(str(order_id), updated, order)


def _build(
    settings: ShopifyRestSettings, secrets: SecretSource, context: ChannelContext
) -> ShopifyRestConnector:
    return ShopifyRestConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind=KIND,
    label="Shopify orders, polled over the REST Admin API",
    settings=ShopifyRestSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into ShopifyRestSettings first
    inbound=True,
    outbound=False,
    poll=True,
    default_poll_seconds=60.0,
)

__all__ = ["KIND", "SPEC", "ShopifyRestConnector"]
