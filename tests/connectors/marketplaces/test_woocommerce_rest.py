"""WooCommerce REST orders against a local fake: modified_after paging that survives an order moving
while pages are read, pages of one second, the cursor and confirm, a crash, 429, Basic-auth refusals,
https only, and an answer that is not JSON."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from connectors import registry
from connectors.marketplaces.cursor import MemoryStateStore
from gateway.core.errors import ConfigError, ConnectorRejected
from tests.connectors.marketplaces.fakes import FakeWooCommerce
from tests.connectors.marketplaces.support import (
    NOW,
    SECRET_VALUES,
    WOO_KEY,
    WOO_SECRET,
    FakeClock,
    confirm_all,
    iso,
    payloads,
    woo_orders,
    woocommerce,
)

START = NOW.replace(day=18)
Serve = Callable[[FakeWooCommerce], FakeWooCommerce]


def fake_for(serve: Serve, orders: list[dict[str, object]]) -> FakeWooCommerce:
    return serve(FakeWooCommerce(orders, key=WOO_KEY, secret=WOO_SECRET))  # type: ignore[arg-type]


async def test_pages_are_read_in_modified_order_with_basic_auth(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = woo_orders(5, START)
    fake = fake_for(serve, orders)  # type: ignore[arg-type]
    connector = woocommerce(fake, clock, store, page_size=2)
    try:
        items = await connector.poll()
    finally:
        await connector.aclose()
    assert payloads(items) == orders
    assert [item.filename for item in items] == [f"woocommerce-order-{727 + n}.json" for n in range(5)]
    first = fake.requests[0]
    assert first.query == {
        "modified_after": "2024-02-29T23:58:59",  # since, less the overlap and one second (exclusive filter)
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": "2",
        "page": "1",
    }
    expected = "Basic " + base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode()
    assert first.headers["authorization"] == expected
    assert all(WOO_SECRET not in json.dumps(seen.query) for seen in fake.requests)


async def test_an_order_modified_while_paging_does_not_push_another_out(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = woo_orders(6, START)
    fake = fake_for(serve, orders)  # type: ignore[arg-type]

    def touch_first_order(page: int) -> None:
        # After the first page, the first order is modified: it moves to the end of the list, and
        # every later order moves up one place (page 2 by number alone would skip order 729).
        if page == 1 and fake.after_page is not None:
            orders[0]["date_modified_gmt"] = iso(NOW.replace(day=19), zone="")
            fake.after_page = None

    fake.after_page = touch_first_order
    connector = woocommerce(fake, clock, store, page_size=2)
    try:
        items = await connector.poll()
    finally:
        await connector.aclose()
    offered = [(item.meta["order_id"], item.meta["updated_at"]) for item in items]
    assert [order_id for order_id, _ in offered] == ["727", "728", "729", "730", "731", "732", "727"]
    assert offered[-1][1] == "2024-03-19T12:00:00Z"


async def test_a_page_of_orders_within_one_second_moves_on_by_page_number(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders = woo_orders(5, START)
    for order in orders[:3]:
        order["date_modified_gmt"] = "2024-03-18T12:00:00"
    fake = fake_for(serve, orders)  # type: ignore[arg-type]
    connector = woocommerce(fake, clock, store, page_size=2)
    try:
        items = await connector.poll()
    finally:
        await connector.aclose()
    assert sorted(item.meta["order_id"] for item in items) == ["727", "728", "729", "730", "731"]
    assert len(items) == 5


async def test_confirm_moves_the_cursor_and_a_crash_offers_again(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = fake_for(serve, woo_orders(3, START))  # type: ignore[arg-type]
    before = woocommerce(fake, clock, store)
    items = await before.poll()
    await confirm_all(before, items[:2])
    await before.aclose()  # dies before the third order is confirmed

    after = woocommerce(fake, clock, store)
    try:
        (again,) = await after.poll()
        assert again.payload == items[2].payload
        assert fake.requests[-1].query["modified_after"] == "2024-03-18T11:59:59"  # (12:01 - 60 s) - 1 s
        await after.confirm(again, document_id="D3", accepted=True)
        assert await after.poll() == []
        assert store.states["acme--shop"]["cursor"]["at"] == "2024-03-18T12:02:00Z"
    finally:
        await after.aclose()


async def test_a_429_waits_for_retry_after(serve: Serve, clock: FakeClock, store: MemoryStateStore) -> None:
    fake = fake_for(serve, woo_orders(1, START))  # type: ignore[arg-type]
    fake.script("/wp-json", 429, {"code": "too_many_requests"}, {"Retry-After": "7"})
    connector = woocommerce(fake, clock, store)
    try:
        assert len(await connector.poll()) == 1
    finally:
        await connector.aclose()
    assert clock.sleeps == [7.0]


async def test_wrong_keys_fail_check_and_poll_plainly(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(FakeWooCommerce([], key="ck_other", secret="cs_other"))
    connector = woocommerce(fake, clock, store)
    try:
        (check,) = await connector.check()
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert (check.name, check.ok) == ("authentication", False)
    assert "Sorry, you cannot list resources" in check.detail
    assert "ACME_WOO_KEY" in check.detail and "ACME_WOO_SECRET" in check.detail
    assert caught.value.code == "WOOCOMMERCE_AUTH" and not caught.value.retryable
    for value in SECRET_VALUES:
        assert value not in check.detail + caught.value.message


async def test_check_counts_orders(serve: Serve, clock: FakeClock, store: MemoryStateStore) -> None:
    fake = fake_for(serve, woo_orders(3, START))  # type: ignore[arg-type]
    connector = woocommerce(fake, clock, store)
    try:
        checks = await connector.check()
    finally:
        await connector.aclose()
    assert [(c.name, c.ok) for c in checks] == [("authentication", True), ("cursor", True)]
    assert "3 in all" in checks[0].detail


async def test_an_answer_that_is_not_json_is_named(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = fake_for(serve, [])
    fake.script("/wp-json", 200, "<br /><b>Deprecated</b>: something in plugin.php")
    connector = woocommerce(fake, clock, store)
    try:
        with pytest.raises(ConnectorRejected, match="not a list of orders") as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert caught.value.code == "WOOCOMMERCE_BAD_RESPONSE"


def test_plain_http_is_refused_except_to_loopback() -> None:
    settings = {"consumer_key_secret": "K", "consumer_secret_secret": "S"}
    with pytest.raises(ConfigError, match=r"site_url: .*must use https"):
        registry.parse_settings("woocommerce-rest", settings | {"site_url": "http://shop.example.com"})
    parsed = registry.parse_settings("woocommerce-rest", settings | {"site_url": "http://127.0.0.1:8080"})
    assert parsed.site_url == "http://127.0.0.1:8080"  # type: ignore[attr-defined]
    assert parsed.secret_names() == {"consumer_key_secret": "K", "consumer_secret_secret": "S"}
