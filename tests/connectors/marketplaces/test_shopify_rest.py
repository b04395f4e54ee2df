"""Shopify REST orders against a local fake: Link pagination without repeated filters, the cursor moving
only on confirm (and only over the confirmed prefix), re-offers after a crash, ties, updates, rate
limits (Retry-After, the call-limit header), credentials, and URLs that would leak the token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from connectors import registry
from connectors.marketplaces.cursor import MemoryStateStore
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable
from tests.connectors.conftest import DictSecrets
from tests.connectors.marketplaces.fakes import FakeShopify
from tests.connectors.marketplaces.support import (
    NOW,
    SECRETS,
    SHOPIFY_TOKEN,
    FakeClock,
    confirm_all,
    payloads,
    shopify,
    shopify_orders,
)

pytestmark = pytest.mark.corpus

START = NOW.replace(day=18)
Serve = Callable[[FakeShopify], FakeShopify]


def orders_requests(fake: FakeShopify) -> list[dict[str, str]]:
    return [seen.query for seen in fake.requests if seen.path.endswith("/orders.json")]


async def test_pages_follow_the_link_header_without_repeating_filters(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = shopify_orders(5, START)
    fake = serve(FakeShopify(orders, token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store, page_size=2)
    try:
        items = await connector.poll()
    finally:
        await connector.aclose()
    assert payloads(items) == orders  # the bare order objects, oldest first
    assert [item.filename for item in items] == [f"shopify-order-{o['id']}.json" for o in orders]
    assert items[0].meta["order_id"] == "450789469" and items[0].meta["updated_at"] == "2024-03-18T12:00:00Z"
    assert {item.content_type for item in items} == {"application/json"}
    first, *rest = orders_requests(fake)
    assert first == {
        "status": "any",
        "updated_at_min": "2024-02-29T23:59:00+00:00",  # since, less the overlap
        "limit": "2",
        "order": "updated_at asc",
    }
    assert len(rest) == 2 and all(set(query) == {"page_info", "limit"} for query in rest)
    assert fake.requests[0].headers["x-shopify-access-token"] == SHOPIFY_TOKEN


async def test_the_cursor_moves_only_over_confirmed_orders(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(3, START), token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store)
    try:
        first = await connector.poll()
        again = await connector.poll()  # nothing confirmed: everything is offered again, byte for byte
        assert [i.payload for i in again] == [i.payload for i in first]

        # The second order confirmed before the first: the cursor may not pass the first.
        await connector.confirm(again[1], document_id="D2", accepted=True)
        assert [i.meta["order_id"] for i in await connector.poll()] == ["450789469", "450789470", "450789471"]

        third = await connector.poll()
        await connector.confirm(third[0], document_id="D1", accepted=True)
        await connector.confirm(third[1], document_id="D2", accepted=False)  # archived as failed: still taken
        assert [i.meta["order_id"] for i in await connector.poll()] == ["450789471"]
        state = store.states["acme--shop"]
        assert state["kind"] == "shopify-rest" and state["source"] == fake.url
        assert state["cursor"]["at"] == "2024-03-18T12:01:00Z"
    finally:
        await connector.aclose()


async def test_a_crash_before_confirm_offers_the_same_orders_again(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(3, START), token=SHOPIFY_TOKEN))
    before = shopify(fake, clock, store)
    items = await before.poll()
    await before.confirm(items[0], document_id="D1", accepted=True)
    await before.aclose()  # the process dies before the other two are confirmed

    after = shopify(fake, clock, store)
    try:
        offered = await after.poll()
        assert [i.payload for i in offered] == [i.payload for i in items[1:]]
        assert orders_requests(fake)[-1]["updated_at_min"] == "2024-03-18T11:59:00+00:00"  # cursor - overlap
        await confirm_all(after, offered)
        assert await after.poll() == []
    finally:
        await after.aclose()


async def test_orders_sharing_a_timestamp_are_neither_lost_nor_repeated(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = shopify_orders(3, START)
    for order in orders:
        order["updated_at"] = "2024-03-18T12:00:00+00:00"
    fake = serve(FakeShopify(orders, token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store, page_size=1, max_orders_per_poll=1, overlap_seconds=0)
    taken = []
    try:
        for _ in range(4):
            items = await connector.poll()
            taken += [i.meta["order_id"] for i in items]
            await confirm_all(connector, items)
    finally:
        await connector.aclose()
    assert taken == ["450789469", "450789470", "450789471"]


async def test_an_updated_order_is_offered_again(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = shopify_orders(2, START)
    fake = serve(FakeShopify(orders, token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store)
    try:
        await confirm_all(connector, await connector.poll())
        assert await connector.poll() == []
        orders[0]["updated_at"] = "2024-03-19T08:00:00+00:00"
        orders[0]["financial_status"] = "paid"
        (item,) = await connector.poll()
    finally:
        await connector.aclose()
    assert json.loads(item.payload)["financial_status"] == "paid"


async def test_a_429_waits_for_retry_after(serve: Serve, clock: FakeClock, store: MemoryStateStore) -> None:
    fake = serve(FakeShopify(shopify_orders(1, START), token=SHOPIFY_TOKEN))
    fake.script(
        "/admin/api", 429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.5"}
    )
    connector = shopify(fake, clock, store)
    try:
        assert len(await connector.poll()) == 1
    finally:
        await connector.aclose()
    assert clock.sleeps == [2.5]
    assert len(orders_requests(fake)) == 2


async def test_a_retry_after_longer_than_allowed_ends_the_poll(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(1, START), token=SHOPIFY_TOKEN))
    fake.script("/admin/api", 429, {}, {"Retry-After": "600"})
    connector = shopify(fake, clock, store)
    try:
        with pytest.raises(ConnectorUnavailable, match="asked to wait 600s") as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert caught.value.retryable and caught.value.code == "SHOPIFY_RATE_LIMITED"
    assert clock.sleeps == []


async def test_server_errors_are_retried_then_reported(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(1, START), token=SHOPIFY_TOKEN))
    for _ in range(3):
        fake.script("/admin/api", 503, {"errors": "Service Unavailable"})
    connector = shopify(fake, clock, store, max_attempts=3)
    try:
        with pytest.raises(ConnectorUnavailable, match=r"HTTP 503.*tried 3 times"):
            await connector.poll()
    finally:
        await connector.aclose()
    assert len(clock.sleeps) == 2 and all(0 <= wait <= 30 for wait in clock.sleeps)


async def test_a_nearly_full_call_limit_bucket_slows_down(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(4, START), token=SHOPIFY_TOKEN))
    fake.call_limit = lambda number: "39/40" if number == 1 else "10/40"
    connector = shopify(fake, clock, store, page_size=2)
    try:
        assert len(await connector.poll()) == 4
    finally:
        await connector.aclose()
    assert clock.sleeps == [4.0]  # (39 - 0.8 * 40 + 1) / 2 per second


async def test_a_wrong_token_fails_check_and_poll_plainly(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify([], token="shpat_the_real_one"))
    connector = shopify(fake, clock, store)
    try:
        (check,) = await connector.check()
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert (check.name, check.ok) == ("authentication", False)
    assert "HTTP 401" in check.detail and "ACME_SHOPIFY_TOKEN" in check.detail
    assert "Invalid API key or access token" in check.detail
    assert caught.value.code == "SHOPIFY_AUTH" and not caught.value.retryable
    assert SHOPIFY_TOKEN not in check.detail + caught.value.message


async def test_check_reports_shop_orders_and_cursor(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(1, START), token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store)
    try:
        checks = await connector.check()
    finally:
        await connector.aclose()
    assert [(c.name, c.ok) for c in checks] == [("authentication", True), ("orders", True), ("cursor", True)]
    assert "Acme Test Shop" in checks[0].detail
    assert "2024-03-01T00:00:00Z" in checks[2].detail


async def test_a_missing_secret_is_named(serve: Serve, clock: FakeClock, store: MemoryStateStore) -> None:
    fake = serve(FakeShopify([], token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store)
    connector.secrets = DictSecrets({k: v for k, v in SECRETS.items() if k != "ACME_SHOPIFY_TOKEN"})
    try:
        (check,) = await connector.check()
    finally:
        await connector.aclose()
    assert (check.name, check.ok) == ("secrets", False) and "ACME_SHOPIFY_TOKEN" in check.detail
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [
        (301, {"Location": "https://elsewhere.example/admin"}, "SHOPIFY_REDIRECT"),
        (
            200,
            {"Link": '<https://collector.example/orders.json?page_info=x>; rel="next"'},
            "SHOPIFY_BAD_LINK",
        ),
    ],
)
async def test_the_token_never_follows_a_redirect_or_a_foreign_link(
    serve: Serve, clock: FakeClock, store: MemoryStateStore, status: int, headers: dict[str, str], code: str
) -> None:
    fake = serve(FakeShopify(shopify_orders(1, START), token=SHOPIFY_TOKEN))
    fake.script("/admin/api", status, {"orders": []}, headers)
    connector = shopify(fake, clock, store)
    try:
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert caught.value.code == code
    assert len(fake.requests) == 1


async def test_an_order_over_the_size_limit_is_refused_and_passed(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeShopify(shopify_orders(2, START), token=SHOPIFY_TOKEN))
    connector = shopify(fake, clock, store, limit=2000)
    try:
        items = await connector.poll()
        assert all(item.payload == b"" and item.refusal is not None for item in items)
        assert items[0].refusal is not None and items[0].refusal.code == "DOCUMENT_TOO_LARGE"
        await confirm_all(connector, items)  # the refusals are recorded: the cursor passes them
        assert await connector.poll() == []
    finally:
        await connector.aclose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.myshopify.com", "must use https"),
        ("http://10.0.0.8:8080", "must use https"),
        ("https://user:pw@acme.myshopify.com", "must not carry a user name"),
        ("https://acme.myshopify.com/?x=1", "without ?query"),
        ("ftp://acme.myshopify.com", "https:// URL"),
    ],
)
def test_urls_that_would_leak_the_token_are_refused(url: str, message: str) -> None:
    settings: dict[str, Any] = {"shop_url": url, "access_token_secret": "ACME_SHOPIFY_TOKEN"}
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        registry.parse_settings("shopify-rest", settings)
    assert "shop_url" in caught.value.message


def test_loopback_http_and_https_are_accepted() -> None:
    for url, expected in [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://acme.myshopify.com/", "https://acme.myshopify.com"),
    ]:
        parsed = registry.parse_settings("shopify-rest", {"shop_url": url, "access_token_secret": "T"})
        assert parsed.shop_url == expected  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"api_version: .*2026-01"):
        registry.parse_settings(
            "shopify-rest",
            {"shop_url": "https://a.myshopify.com", "access_token_secret": "T", "api_version": "v1"},
        )


async def test_a_cursor_stored_for_another_shop_is_not_used(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = shopify_orders(1, START)
    fake = serve(FakeShopify(orders, token=SHOPIFY_TOKEN))
    await store.save(
        "acme--shop",
        {
            "kind": "shopify-rest",
            "source": "https://other.myshopify.com",
            "cursor": {"at": "2030-01-01T00:00:00Z"},
        },
    )
    connector = shopify(fake, clock, store)
    try:
        (item,) = await connector.poll()
    finally:
        await connector.aclose()
    assert json.loads(item.payload)["id"] == orders[0]["id"]
