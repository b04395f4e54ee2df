"""The parts the three connectors share: the cursor and its stores, the feed's confirmed-prefix rule,
exact JSON, and reading a server's Retry-After and error bodies."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.marketplaces import jsondoc
from connectors.marketplaces.cursor import Cursor, FileStateStore, MemoryStateStore, parse_time
from connectors.marketplaces.feed import FetchedOrder, OrderFeed
from connectors.marketplaces.http import reason, retry_after
from gateway.core.errors import ConfigError, StorageError
from tests.connectors.marketplaces.support import NOW, FakeClock, context

T0 = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


# Cursor ------------------------------------------------------------------------------------------------


def test_a_cursor_takes_each_order_version_once_whatever_the_tie_order() -> None:
    cursor = Cursor(T0)
    for order_id in ("b", "a", "c"):  # three orders stamped the same second, listed in any order
        assert cursor.wants(order_id, T0, timedelta(0))
        cursor = cursor.advance(order_id, T0, timedelta(0))
    assert not any(cursor.wants(order_id, T0, timedelta(0)) for order_id in "abc")
    assert cursor.wants("d", T0, timedelta(0))
    assert cursor.wants("a", T0 + timedelta(seconds=1), timedelta(0))  # updated again
    assert not cursor.wants("e", T0 - timedelta(seconds=1), timedelta(0))


def test_the_overlap_finds_late_orders_and_forgets_what_is_older() -> None:
    overlap = 2 * MINUTE
    cursor = Cursor(T0).advance("a", T0, overlap).advance("b", T0 + MINUTE, overlap)
    assert cursor.wants("late", T0 - MINUTE, overlap)  # stamped before the cursor, visible only now
    assert not cursor.wants("a", T0, overlap)
    cursor = cursor.advance("c", T0 + 3 * MINUTE, overlap)
    assert {order_id for order_id, _ in cursor.seen} == {"b", "c"}  # "a" is older than at - overlap
    assert cursor.reach(T0 + 10 * MINUTE, overlap).seen == frozenset()
    assert cursor.reach(T0, overlap) is cursor  # never backwards


def test_a_cursor_survives_its_json_and_refuses_foreign_shapes() -> None:
    cursor = Cursor(T0 + timedelta(microseconds=5000)).advance("450789469", T0, MINUTE)
    assert Cursor.from_json(json.loads(json.dumps(cursor.to_json()))) == cursor
    bad: object
    for bad in (None, [], {"at": "yesterday"}, {"at": "2024-03-18T12:00:00Z", "seen": [["a"]]}):
        assert Cursor.from_json(bad) is None


def test_times_are_read_as_the_apis_write_them() -> None:
    assert parse_time("2008-01-10T11:00:00-05:00") == datetime(2008, 1, 10, 16, tzinfo=UTC)
    assert parse_time("2019-05-07T15:42:57.058Z") == datetime(2019, 5, 7, 15, 42, 57, 58000, tzinfo=UTC)
    assert parse_time("2024-03-18T13:06:02") == datetime(2024, 3, 18, 13, 6, 2, tzinfo=UTC)  # *_gmt
    assert parse_time("") is None and parse_time(None) is None and parse_time("soon") is None


# Stores --------------------------------------------------------------------------------------------------


async def test_the_file_store_round_trips_atomically(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state")
    assert await store.load("acme--shop") is None
    await store.save("acme--shop", {"cursor": {"at": "2024-03-18T12:00:00Z"}})
    await store.save("acme--shop", {"cursor": {"at": "2024-03-18T12:05:00Z"}})
    assert await store.load("acme--shop") == {"cursor": {"at": "2024-03-18T12:05:00Z"}}
    assert os.listdir(tmp_path / "state") == ["acme--shop.json"]  # no temporary file left


async def test_the_file_store_names_its_problems(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path)
    for key in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ConfigError, match="cannot name a state file"):
            store.path(key)
    (tmp_path / "acme--shop.json").write_text("{not json")
    with pytest.raises(ConfigError, match="move it aside") as caught:
        await store.load("acme--shop")
    assert caught.value.code == "CHANNEL_STATE_UNREADABLE"
    blocked = FileStateStore(tmp_path / "acme--shop.json" / "below")  # a file where a folder should be
    with pytest.raises(StorageError, match="cannot be written"):
        await blocked.save("acme--shop", {})


# Feed ------------------------------------------------------------------------------------------------------


def feed(store: MemoryStateStore, limit: int = 1 << 20) -> OrderFeed:
    return OrderFeed(
        kind="shopify-rest",
        marketplace="shopify",
        source="https://acme.myshopify.com",
        context=context(limit=limit),
        store=store,
        overlap=timedelta(0),
        first=lambda: T0,
    )


def orders(count: int) -> list[FetchedOrder]:
    return [
        FetchedOrder(str(n), T0 + n * MINUTE, {"id": n, "total": Decimal("9.90")})
        for n in range(1, count + 1)
    ]


async def test_the_first_cursor_is_stored_before_anything_is_offered() -> None:
    store = MemoryStateStore()
    await feed(store).cursor()
    assert store.states["acme--shop"]["cursor"] == {"at": "2024-03-18T12:00:00Z", "seen": []}


async def test_a_confirm_from_an_earlier_poll_moves_nothing() -> None:
    store = MemoryStateStore()
    made = feed(store)
    old = await made.offer(orders(2))
    await made.offer(orders(2))  # a newer poll
    await made.confirm(old[0])
    assert (await made.cursor()).at == T0


async def test_skipped_orders_are_passed_only_behind_confirmed_ones() -> None:
    store = MemoryStateStore()
    made = feed(store)
    first, skipped, third = orders(3)
    items = await made.offer([first, FetchedOrder(skipped.order_id, skipped.updated, None, "Pending"), third])
    assert [item.meta["order_id"] for item in items] == ["1", "3"]
    assert (await made.cursor()).at == T0
    await made.confirm(items[0])
    assert (await made.cursor()).at == T0 + 2 * MINUTE  # the first, and the Pending one behind it
    await made.confirm(items[1])
    assert (await made.cursor()).at == T0 + 3 * MINUTE


async def test_payloads_keep_the_numbers_as_sent() -> None:
    made = feed(MemoryStateStore())
    (item,) = await made.offer(orders(1))
    assert item.payload == b'{"id":1,"total":9.90}'


# JSON ------------------------------------------------------------------------------------------------------


def test_json_is_written_back_exactly_and_stably() -> None:
    raw = '{"total_price":"409.94","rate":0.060,"big":1.569521782042E9,"qty":3,"name":"Lindenstraße","ok":true,"x":null}'
    value = jsondoc.loads(raw.encode())
    # Every digit kept (0.060 stays 0.060); only an exponent may be written out.
    assert jsondoc.dumps(value) == raw.replace("1.569521782042E9", "1569521782.042").encode()
    assert jsondoc.loads(jsondoc.dumps(value)) == value
    assert jsondoc.dumps(jsondoc.loads(b'{"s":"\\ud800"}')) == b'{"s":"\\ud800"}'  # a lone surrogate, escaped


def test_json_that_is_not_json_is_named() -> None:
    for bad, said in [
        (b"<br /><b>Notice</b>", "line 1, column 1"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[NaN]", "NaN"),
    ]:
        with pytest.raises(jsondoc.JsonRefused, match=said):
            jsondoc.loads(bad)


# HTTP answers --------------------------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_dates() -> None:
    clock = FakeClock()
    assert retry_after({"retry-after": "2.0"}, clock) == 2.0
    later = (NOW + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after({"retry-after": later}, clock) == 30.0
    assert retry_after({"retry-after": "soon"}, clock) is None and retry_after({}, clock) is None


def test_refusals_are_told_in_the_services_words() -> None:
    assert (
        reason(b'{"errors":"[API] Invalid API key or access token"}')
        == "[API] Invalid API key or access token"
    )
    assert (
        reason(b'{"errors":[{"code":"InvalidInput","message":"Bad date","details":""}]}')
        == "InvalidInput: Bad date"
    )
    assert (
        reason(b'{"error":"invalid_grant","error_description":"bad refresh"}') == "invalid_grant; bad refresh"
    )
    assert (
        reason(b'{"code":"woocommerce_rest_cannot_view","message":"Sorry."}')
        == "woocommerce_rest_cannot_view; Sorry."
    )
    assert reason(b"<html>\r\n<h1>502</h1>") == "<html> <h1>502</h1>"
