"""The WooCommerce webhook connector on its own: ping, signature, source, topics, freshness."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors import registry
from connectors.base import ChannelContext, PushConnector
from connectors.webhooks.base import DELIVERY_ID, HOLD, BadDelivery, Unauthenticated
from gateway.core.errors import ConfigError
from tests.connectors.conftest import DictSecrets
from tests.connectors.webhooks.support import (
    STORE,
    WOO_KEY,
    ago,
    woocommerce_body,
    woocommerce_headers,
    woocommerce_settings,
)


def connector(**extra: Any) -> PushConnector:
    context = ChannelContext("woo", "hexa", 1_000_000)
    secrets = DictSecrets({"HEXA_WOO_HMAC": WOO_KEY})
    built = registry.build("woocommerce-webhook", woocommerce_settings(**extra), secrets, context=context)
    assert isinstance(built, PushConnector)
    return built


async def test_the_ping_on_saving_a_webhook_is_answered_200_with_nothing_kept() -> None:
    made = connector()
    items = await made.receive(b"webhook_id=12", {"Content-Type": "application/x-www-form-urlencoded"})
    assert items == []
    answer = await made.answer([])
    assert answer.status == 200  # WooCommerce refuses to save the webhook on anything but exactly 200


@pytest.mark.parametrize("body", [b"webhook_id=12&x=1", b"webhook_id=", b"hello", b"{}"])
async def test_only_the_exact_ping_goes_unsigned(body: bytes) -> None:
    with pytest.raises(Unauthenticated):
        await connector().receive(body, {})


async def test_a_signed_order_created_is_one_item_with_the_raw_bytes() -> None:
    body = woocommerce_body()
    [item] = await connector().receive(body, woocommerce_headers(body, delivery_id="8f2a0c"))
    assert item.payload == body and item.refusal is None
    assert item.meta[DELIVERY_ID] == "8f2a0c" and item.meta["topic"] == "order.created"
    assert HOLD not in item.meta
    assert item.filename == "woocommerce order.created 8f2a0c.json"


async def test_tampering_another_secret_or_another_store_is_unauthenticated() -> None:
    body = woocommerce_body()
    headers = woocommerce_headers(body)
    with pytest.raises(Unauthenticated):
        await connector().receive(body.replace(b"66.05", b"6.05"), headers)
    with pytest.raises(Unauthenticated):
        await connector().receive(body, woocommerce_headers(body, key="the old secret"))
    with pytest.raises(Unauthenticated, match="X-WC-Webhook-Source"):
        await connector().receive(body, woocommerce_headers(body, source="https://elsewhere.example/"))
    with pytest.raises(Unauthenticated, match="missing"):
        await connector().receive(body, {k: v for k, v in headers.items() if "Signature" not in k})


@pytest.mark.parametrize(
    "source", ["https://KOFFIE.example.nl", "https://koffie.example.nl/", "HTTPS://koffie.example.nl"]
)
async def test_the_source_compares_as_a_url(source: str) -> None:
    body = woocommerce_body()
    [item] = await connector().receive(body, woocommerce_headers(body, source=source))
    assert item.payload == body


@pytest.mark.parametrize("header", ["X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID"])
async def test_a_signed_request_without_topic_or_delivery_id_is_a_bad_delivery(header: str) -> None:
    body = woocommerce_body()
    headers = woocommerce_headers(body)
    del headers[header]
    with pytest.raises(BadDelivery, match=header):
        await connector().receive(body, headers)


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("order.updated", "ORDER_UPDATE_NOT_APPLIED"),
        ("order.deleted", "ORDER_UPDATE_NOT_APPLIED"),
        ("product.created", "WEBHOOK_TOPIC_NOT_TAKEN"),
    ],
)
async def test_other_topics_are_held(topic: str, code: str) -> None:
    body = woocommerce_body()
    [item] = await connector().receive(body, woocommerce_headers(body, topic=topic))
    assert item.meta[HOLD].code == code


async def test_an_order_modified_outside_the_window_is_held() -> None:
    stale = woocommerce_body(modified=ago(days=2))
    [item] = await connector().receive(stale, woocommerce_headers(stale))
    assert item.meta[HOLD].code == "WEBHOOK_STALE" and "date_modified_gmt" in item.meta[HOLD].message
    [kept] = await connector(max_age_seconds=None).receive(stale, woocommerce_headers(stale))
    assert HOLD not in kept.meta
    ahead = woocommerce_body(modified=ago(hours=-1))
    [item] = await connector().receive(ahead, woocommerce_headers(ahead))
    assert item.meta[HOLD].code == "WEBHOOK_FROM_THE_FUTURE"


async def test_a_body_without_dates_is_left_to_the_translation() -> None:
    body = json.dumps({"id": 5}).encode()
    [item] = await connector().receive(body, woocommerce_headers(body))
    assert HOLD not in item.meta


@pytest.mark.parametrize("value", ["koffie.example.nl", "ftp://koffie.example.nl/", "https://x.nl/?a=1", ""])
def test_the_store_url_must_be_a_home_url(value: str) -> None:
    with pytest.raises(ConfigError, match="store_url"):
        registry.parse_settings("woocommerce-webhook", woocommerce_settings() | {"store_url": value})


def test_the_store_url_is_stored_normalised() -> None:
    settings = registry.parse_settings("woocommerce-webhook", woocommerce_settings())
    assert settings.store_url == STORE.rstrip("/")  # type: ignore[attr-defined]
