"""Amazon SP-API orders against a local fake of the SP-API and Login with Amazon: the archived document
shape (checked against the format that reads it, with Amazon's sandbox examples), NextToken paging
of orders and items, Pending orders passed, time windows, token caching and refresh (expiry, 403),
refused credentials, token buckets and 429s."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors import registry
from connectors.marketplaces.clock import TokenBucket
from connectors.marketplaces.cursor import MemoryStateStore
from gateway.core.errors import ConfigError, ConnectorRejected
from mappings.translate import translate
from tests.connectors.conftest import DictSecrets
from tests.connectors.marketplaces.fakes import FakeAmazon
from tests.connectors.marketplaces.support import (
    LWA_ID,
    LWA_REFRESH,
    LWA_SECRET,
    NOW,
    SECRET_VALUES,
    SECRETS,
    FakeClock,
    amazon,
    amazon_orders,
    confirm_all,
    payloads,
    sandbox_orders,
)
from tests.corpus import require_corpus
from tests.mappings.marketplace.support import ITEMS_PATH, sandbox_response

START = NOW.replace(day=18)
Serve = Callable[[FakeAmazon], FakeAmazon]


def fake_amazon(
    orders: list[dict[str, Any]], items: dict[str, list[dict[str, Any]]], **options: Any
) -> FakeAmazon:
    return FakeAmazon(
        orders, items, client_id=LWA_ID, client_secret=LWA_SECRET, refresh_token=LWA_REFRESH, **options
    )


def calls(fake: FakeAmazon, suffix: str) -> list[dict[str, str]]:
    return [seen.query for seen in fake.requests if seen.path.endswith(suffix)]


@pytest.mark.corpus
async def test_the_sandbox_orders_become_the_documents_the_format_reads(
    serve: Serve, store: MemoryStateStore
) -> None:
    require_corpus()
    listed = sandbox_orders()
    items = sandbox_response(ITEMS_PATH)["payload"]["OrderItems"]
    fake = serve(fake_amazon(listed, {order["AmazonOrderId"]: items for order in listed}))
    clock = FakeClock(datetime(1970, 1, 20, tzinfo=UTC))  # the sandbox's orders are from January 1970
    connector = amazon(fake, clock, store, marketplace_ids=["ATVPDKIKX0DER"], since="1970-01-19T00:00:00Z")
    try:
        found = await connector.poll()
    finally:
        await connector.aclose()
    assert sorted(item.meta["order_id"] for item in found) == sorted(o["AmazonOrderId"] for o in listed)
    first = next(item for item in found if item.meta["order_id"] == "902-1845936-5435065")
    document = json.loads(first.payload)
    assert document == {
        "getOrder": {"payload": next(o for o in listed if o["AmazonOrderId"] == "902-1845936-5435065")},
        "getOrderItems": {"payload": {"AmazonOrderId": "902-1845936-5435065", "OrderItems": items}},
    }
    assert first.filename == "amazon-order-902-1845936-5435065.json"
    translation = translate(first.payload)
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    [order] = translation.orders
    assert order.order_number == "902-1845936-5435065" and order.source.format == "amazon"


async def test_orders_and_items_are_paged_by_next_token(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(5, START)
    fake = serve(fake_amazon(orders, items, page_size_items=1))
    connector = amazon(fake, clock, store, page_size=2)
    try:
        found = await connector.poll()
    finally:
        await connector.aclose()
    # Amazon lists the newest first; the items come oldest first, each with all its item pages.
    assert [item.meta["order_id"] for item in found] == [o["AmazonOrderId"] for o in orders]
    listing = calls(fake, "/orders/v0/orders")
    assert len(listing) == 3
    assert listing[0] == {
        "MarketplaceIds": "A1PA6795UKMFR9",
        "LastUpdatedAfter": "2024-03-01T00:00:00Z",
        "LastUpdatedBefore": "2024-03-20T11:58:00Z",  # two minutes before now
        "MaxResultsPerPage": "2",
    }
    assert listing[1] == listing[0] | {"NextToken": "page-2"}  # the filters go along with NextToken
    document = payloads(found)[0]
    assert [page["payload"].get("NextToken") for page in document["getOrderItems"]] == ["items-1", None]
    translation = translate(found[0].payload)
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    assert len(translation.orders[0].lines) == 2
    assert fake.requests[0].path == "/auth/o2/token"
    assert fake.requests[1].headers["x-amz-access-token"] == "Atza|fake-1"


async def test_pending_orders_are_passed_until_amazon_updates_them(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(3, START)
    orders[1]["OrderStatus"] = "Pending"
    pending = orders[1]["AmazonOrderId"]
    fake = serve(fake_amazon(orders, items))
    connector = amazon(fake, clock, store)
    try:
        found = await connector.poll()
        assert [item.meta["order_id"] for item in found] == [
            orders[0]["AmazonOrderId"],
            orders[2]["AmazonOrderId"],
        ]
        assert not any(path.endswith(f"{pending}/orderItems") for path in fake.paths())
        await confirm_all(connector, found)
        assert await connector.poll() == []

        clock.advance(3600)  # an hour later the payment is authorised: Amazon updates the order
        orders[1]["OrderStatus"] = "Unshipped"
        orders[1]["LastUpdateDate"] = "2024-03-20T12:30:00Z"
        (item,) = await connector.poll()
    finally:
        await connector.aclose()
    assert item.meta["order_id"] == pending


async def test_an_empty_window_moves_the_cursor_to_its_end(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(fake_amazon([], {}))
    connector = amazon(fake, clock, store, window_hours=120)
    try:
        assert await connector.poll() == []
    finally:
        await connector.aclose()
    windows = [(q["LastUpdatedAfter"], q["LastUpdatedBefore"]) for q in calls(fake, "/orders/v0/orders")]
    assert windows == [
        ("2024-03-01T00:00:00Z", "2024-03-06T00:00:00Z"),
        ("2024-03-06T00:00:00Z", "2024-03-11T00:00:00Z"),
        ("2024-03-11T00:00:00Z", "2024-03-16T00:00:00Z"),
        ("2024-03-16T00:00:00Z", "2024-03-20T11:58:00Z"),
    ]
    assert store.states["acme--shop"]["cursor"]["at"] == "2024-03-20T11:58:00Z"


async def test_the_cursor_stays_before_unconfirmed_orders_of_a_window(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(3, START)
    fake = serve(fake_amazon(orders, items))
    connector = amazon(fake, clock, store, max_orders_per_poll=2)
    try:
        first = await connector.poll()
        assert len(first) == 2
        await connector.confirm(first[0], document_id="D1", accepted=True)
        again = await connector.poll()  # the second was never confirmed: offered again
        assert again[0].payload == first[1].payload
        assert [i.meta["order_id"] for i in again] == [o["AmazonOrderId"] for o in orders[1:]]
        await confirm_all(connector, again)
        assert store.states["acme--shop"]["cursor"]["at"] == "2024-03-20T11:58:00Z"  # the window was whole
        assert await connector.poll() == []
    finally:
        await connector.aclose()


async def test_the_access_token_is_cached_and_refreshed_when_it_expires(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(2, START)
    fake = serve(fake_amazon(orders, items))
    connector = amazon(fake, clock, store)
    try:
        await connector.poll()
        await connector.poll()
        assert fake.issued == 1  # one token for every call of both polls
        (token_request,) = [seen.form for seen in fake.requests if seen.path == "/auth/o2/token"]
        assert token_request == {
            "grant_type": "refresh_token",
            "refresh_token": LWA_REFRESH,
            "client_id": LWA_ID,
            "client_secret": LWA_SECRET,
        }
        clock.advance(3600 - 60)  # expires_in less the margin
        await connector.poll()
        assert fake.issued == 2
    finally:
        await connector.aclose()


async def test_a_refused_token_is_refreshed_once(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(1, START)
    fake = serve(fake_amazon(orders, items))
    connector = amazon(fake, clock, store)
    try:
        await connector.poll()
        fake.expire_tokens()  # revoked or expired early on Amazon's side: 403 Unauthorized
        assert len(await connector.poll()) == 1
        assert fake.issued == 2

        for _ in range(2):  # refused again after the refresh: the refusal stands
            fake.script(
                "/orders/v0/orders", 403, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]}
            )
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
        assert caught.value.code == "AMAZON_FORBIDDEN" and "Orders API" in caught.value.message
        assert fake.issued == 3
    finally:
        await connector.aclose()


@pytest.mark.parametrize(
    ("secret", "said"),
    [("ACME_LWA_SECRET", "invalid_client"), ("ACME_LWA_REFRESH", "invalid_grant")],
)
async def test_refused_credentials_fail_check_and_poll_plainly(
    serve: Serve, clock: FakeClock, store: MemoryStateStore, secret: str, said: str
) -> None:
    fake = serve(fake_amazon([], {}))
    connector = amazon(fake, clock, store, secrets=DictSecrets(SECRETS | {secret: "wrong"}))
    try:
        (check,) = await connector.check()
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
    finally:
        await connector.aclose()
    assert (check.name, check.ok) == ("authentication", False)
    assert said in check.detail and secret in check.detail
    assert caught.value.code == "AMAZON_LWA_AUTH" and not caught.value.retryable
    for value in SECRET_VALUES:
        assert value not in check.detail + caught.value.message


async def test_check_reports_token_orders_and_cursor(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    fake = serve(fake_amazon([], {}))
    connector = amazon(fake, clock, store)
    try:
        checks = await connector.check()
    finally:
        await connector.aclose()
    assert [(c.name, c.ok) for c in checks] == [("authentication", True), ("orders", True), ("cursor", True)]
    (query,) = calls(fake, "/orders/v0/orders")
    assert (query["LastUpdatedAfter"], query["LastUpdatedBefore"]) == (
        "2024-03-20T11:48:00Z",
        "2024-03-20T11:58:00Z",
    )


async def test_token_buckets_pace_each_operation(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(3, START)
    fake = serve(fake_amazon(orders, items))
    connector = amazon(
        fake,
        clock,
        store,
        page_size=1,
        get_orders_rate=0.5,
        get_orders_burst=2,
        get_order_items_rate=2.0,
        get_order_items_burst=1,
    )
    try:
        assert len(await connector.poll()) == 3
    finally:
        await connector.aclose()
    # getOrders: three pages with a burst of two → the third waits 1 / 0.5 s; getOrderItems: a burst of
    # one at 2/s → the second and third wait 0.5 s each (the clock moved on by 2 s before the first).
    assert clock.sleeps == [2.0, 0.5, 0.5]


async def test_a_429_empties_the_bucket_and_adopts_the_stated_rate(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(1, START)
    fake = serve(fake_amazon(orders, items, rate_limit="0.25"))
    fake.script(
        "/orders/v0/orders",
        429,
        {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]},
        {"x-amzn-RateLimit-Limit": "0.25"},
    )
    connector = amazon(fake, clock, store)
    try:
        assert len(await connector.poll()) == 1
    finally:
        await connector.aclose()
    # A jittered backoff (at most 1 s on the first retry), then the emptied bucket refills at the stated
    # 0.25/s: one token is 4 s after the 429 in all.
    backoff, refill = clock.sleeps
    assert 0 <= backoff <= 1 and backoff + refill == pytest.approx(4.0)
    assert connector.orders_bucket.rate == 0.25
    assert len(calls(fake, "/orders/v0/orders")) == 2


async def test_an_order_whose_items_amazon_refuses_is_archived_with_the_errors(
    serve: Serve, clock: FakeClock, store: MemoryStateStore
) -> None:
    orders, items = amazon_orders(2, START)
    del items[orders[0]["AmazonOrderId"]]  # the fake answers 400 InvalidInput for it
    fake = serve(fake_amazon(orders, items))
    connector = amazon(fake, clock, store)
    try:
        found = await connector.poll()
    finally:
        await connector.aclose()
    assert len(found) == 2
    translation = translate(found[0].payload)
    assert translation.status == "rejected"
    assert "AMAZON_API_ERROR" in {issue.code for issue in translation.errors}
    assert translate(found[1].payload).status == "accepted"


def test_settings_need_marketplaces_and_https() -> None:
    base = {"client_id_secret": "A", "client_secret_secret": "B", "refresh_token_secret": "C"}
    parsed = registry.parse_settings(
        "amazon-spapi", base | {"marketplace_ids": "A1PA6795UKMFR9, A13V1IB3VIYZZH"}
    )
    assert parsed.marketplace_ids == ("A1PA6795UKMFR9", "A13V1IB3VIYZZH")  # type: ignore[attr-defined]
    assert parsed.endpoint == "https://sellingpartnerapi-na.amazon.com"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="marketplace_ids"):
        registry.parse_settings("amazon-spapi", base)
    with pytest.raises(ConfigError, match=r"token_url: .*must use https"):
        registry.parse_settings(
            "amazon-spapi",
            base | {"marketplace_ids": ["A1PA6795UKMFR9"], "token_url": "http://api.amazon.com/t"},
        )
    with pytest.raises(ConfigError, match="lag_seconds"):
        registry.parse_settings("amazon-spapi", base | {"marketplace_ids": ["X"], "lag_seconds": 30})


async def test_default_usage_plan_of_get_orders_is_a_burst_of_twenty_then_one_a_minute() -> None:
    clock = FakeClock()
    settings = registry.parse_settings(
        "amazon-spapi",
        {
            "marketplace_ids": ["X"],
            "client_id_secret": "A",
            "client_secret_secret": "B",
            "refresh_token_secret": "C",
        },
    )
    bucket = TokenBucket(settings.get_orders_rate, settings.get_orders_burst, clock)  # type: ignore[attr-defined]

    waits = [await bucket.take() for _ in range(22)]
    assert waits[:20] == [0.0] * 20
    assert waits[20] == pytest.approx(1 / 0.0167) and waits[21] == pytest.approx(1 / 0.0167)
    assert clock.sleeps == waits[20:]
