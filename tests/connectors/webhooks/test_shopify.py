"""The Shopify webhook connector on its own: what it verifies, what it takes, what it holds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors import registry
from connectors.base import ChannelContext, InboundItem, Outcome, PushConnector
from connectors.webhooks.base import DELIVERY_ID, HOLD, BadDelivery, Unauthenticated
from gateway.core.errors import ConfigError, Issue
from tests.connectors.conftest import DictSecrets
from tests.connectors.webhooks.support import (
    SHOP,
    SHOPIFY_KEY,
    ago,
    shopify_headers,
    shopify_settings,
)

BODY = json.dumps({"id": 820982911946154508, "name": "#9999", "total_price": "12.00"}).encode()


def connector(secrets: dict[str, str] | None = None, limit: int = 100_000, **extra: Any) -> PushConnector:
    values = {"HEXA_SHOPIFY_HMAC": SHOPIFY_KEY} if secrets is None else secrets
    context = ChannelContext("shopify", "hexa", limit)
    built = registry.build("shopify-webhook", shopify_settings(**extra), DictSecrets(values), context=context)
    assert isinstance(built, PushConnector)
    return built


async def receive_one(headers: dict[str, str], body: bytes = BODY, **extra: Any) -> InboundItem:
    [item] = await connector(**extra).receive(body, headers)
    return item


async def test_a_signed_orders_create_is_one_item_with_the_raw_bytes() -> None:
    headers = shopify_headers(BODY, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    item = await receive_one(headers)
    assert item.payload == BODY  # byte for byte: what was signed is what is archived
    assert (item.channel, item.partner_id, item.refusal) == ("shopify", "hexa", None)
    assert item.meta[DELIVERY_ID] == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert item.meta["topic"] == "orders/create" and item.meta["shop"] == SHOP
    assert HOLD not in item.meta
    assert item.filename == "shopify orders-create b54557e4-bdd9-4b37-8a5f-bf7d70bcd043.json"


async def test_header_names_are_case_insensitive() -> None:
    headers = {name.lower(): value for name, value in shopify_headers(BODY).items()}
    assert (await receive_one(headers)).payload == BODY


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda h: h.pop("X-Shopify-Hmac-Sha256"), id="no-signature"),
        pytest.param(lambda h: h.update({"X-Shopify-Hmac-Sha256": "not base64!"}), id="garbage"),
        pytest.param(lambda h: h.update({"X-Shopify-Hmac-Sha256": ""}), id="empty"),
        pytest.param(
            lambda h: h.update({"X-Shopify-Shop-Domain": "someone-else.myshopify.com"}), id="other-shop"
        ),
        pytest.param(lambda h: h.pop("X-Shopify-Shop-Domain"), id="no-shop"),
    ],
)
async def test_unverified_requests_are_unauthenticated(change: Any) -> None:
    headers = shopify_headers(BODY)
    change(headers)
    with pytest.raises(Unauthenticated) as caught:
        await connector().receive(BODY, headers)
    assert caught.value.status == 401 and caught.value.retryable is False


async def test_a_tampered_body_or_another_key_fails_verification() -> None:
    headers = shopify_headers(BODY)
    with pytest.raises(Unauthenticated, match="does not match the body"):
        await connector().receive(BODY.replace(b"12.00", b"1.00"), headers)
    with pytest.raises(Unauthenticated):
        await connector().receive(BODY, shopify_headers(BODY, key="another app's secret"))
    # Re-serialised JSON (the same data, other bytes) is not what Shopify signed.
    reformatted = json.dumps(json.loads(BODY), indent=2).encode()
    with pytest.raises(Unauthenticated):
        await connector().receive(reformatted, headers)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Shopify-Topic", None),
        ("X-Shopify-Webhook-Id", None),
        ("X-Shopify-Webhook-Id", "../../etc/passwd"),
        ("X-Shopify-Triggered-At", None),
        ("X-Shopify-Triggered-At", "yesterday"),
    ],
)
async def test_a_signed_request_with_a_bad_header_is_a_bad_delivery(header: str, value: str | None) -> None:
    headers = shopify_headers(BODY)
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    with pytest.raises(BadDelivery) as caught:
        await connector().receive(BODY, headers)
    assert caught.value.status == 400 and caught.value.element == header


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("orders/updated", "ORDER_UPDATE_NOT_APPLIED"),
        ("orders/cancelled", "ORDER_UPDATE_NOT_APPLIED"),
        ("orders/paid", "ORDER_UPDATE_NOT_APPLIED"),
        ("products/create", "WEBHOOK_TOPIC_NOT_TAKEN"),
    ],
)
async def test_other_topics_are_held_with_a_reason(topic: str, code: str) -> None:
    item = await receive_one(shopify_headers(BODY, topic=topic))
    hold = item.meta[HOLD]
    assert isinstance(hold, Issue) and hold.code == code and topic in hold.message
    assert item.payload == BODY  # kept: authentic bytes are archived, not dropped


async def test_cancellations_say_what_to_do() -> None:
    item = await receive_one(shopify_headers(BODY, topic="orders/cancelled"))
    assert "cancel it downstream by hand" in item.meta[HOLD].message


async def test_deliveries_outside_the_window_are_held() -> None:
    stale = await receive_one(shopify_headers(BODY, triggered_at=ago(minutes=6)))
    assert stale.meta[HOLD].code == "WEBHOOK_STALE"
    future = await receive_one(shopify_headers(BODY, triggered_at=ago(minutes=-10)))
    assert future.meta[HOLD].code == "WEBHOOK_FROM_THE_FUTURE"
    fresh = await receive_one(shopify_headers(BODY, triggered_at=ago(minutes=4)))
    assert HOLD not in fresh.meta
    # The window is the channel's: an hour, or none at all.
    hour = await receive_one(shopify_headers(BODY, triggered_at=ago(minutes=50)), max_age_seconds=3600)
    assert HOLD not in hour.meta
    unbounded = await receive_one(shopify_headers(BODY, triggered_at=ago(days=3)), max_age_seconds=None)
    assert HOLD not in unbounded.meta


async def test_an_oversized_body_is_refused_without_its_bytes() -> None:
    [item] = await connector(limit=10).receive(BODY, shopify_headers(BODY))
    assert item.payload == b"" and item.refusal is not None
    assert item.refusal.code == "DOCUMENT_TOO_LARGE" and str(len(BODY)) in item.refusal.message


async def test_a_missing_secret_is_a_config_error_and_a_failed_check() -> None:
    missing = connector(secrets={})
    with pytest.raises(ConfigError, match="HEXA_SHOPIFY_HMAC"):
        await missing.receive(BODY, shopify_headers(BODY))
    checks = {c.name: c for c in await missing.check()}
    assert not checks["secret"].ok and "HEXA_SHOPIFY_HMAC" in checks["secret"].detail
    good = {c.name: c for c in await connector().check()}
    assert good["secret"].ok and "/inbound/hexa/shopify" in good["endpoint"].detail


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("Koffie-Hexa.myshopify.com", "koffie-hexa.myshopify.com"),
        ("https://koffie-hexa.myshopify.com/", "koffie-hexa.myshopify.com"),
    ],
)
def test_the_shop_domain_is_normalised(value: str, stored: str) -> None:
    settings = registry.parse_settings("shopify-webhook", shopify_settings() | {"shop_domain": value})
    assert settings.shop_domain == stored  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["koffie.example.com", "", "a b.myshopify.com", "x.myshopify.com.evil.io"])
def test_a_shop_that_is_no_myshopify_domain_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"shop_domain: .*myshopify\.com"):
        registry.parse_settings("shopify-webhook", shopify_settings() | {"shop_domain": value})


async def test_the_answer_is_2xx_only_when_every_item_is_committed() -> None:
    made = connector()
    [item] = await made.receive(BODY, shopify_headers(BODY))
    ok = await made.answer([Outcome(item, "D1", True)])
    assert ok.status == 200 and json.loads(ok.body) == {"status": "received", "documents": ["D1"]}
    lost = await made.answer([Outcome(item, None, False)])
    assert lost.status == 503 and lost.headers.get("retry-after")
    assert b"NOT_TAKEN" in lost.body
