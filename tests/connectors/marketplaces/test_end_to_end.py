"""From a marketplace to a canonical order in the database: each connector polled by
`gateway.inbox.drain_once` into a real `Ingestor` on SQLite; a crash between the archive commit and
`confirm` re-offers the order and the archive's duplicate check absorbs it; a failed archive commit
leaves the cursor where it was."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import InboundConnector
from connectors.marketplaces.cursor import MemoryStateStore
from gateway.inbox import drain_once
from gateway.ingest import Ingestor, IngestResult
from gateway.storage import repository as repo
from gateway.storage.database import Database
from mappings.translate import translate
from tests.connectors.marketplaces.fakes import Fake, FakeAmazon, FakeShopify, FakeWooCommerce
from tests.connectors.marketplaces.support import (
    LWA_ID,
    LWA_REFRESH,
    LWA_SECRET,
    SHOPIFY_TOKEN,
    WOO_KEY,
    WOO_SECRET,
    FakeClock,
    amazon,
    sandbox_orders,
    shopify,
    shopify_corpus_order,
    woo_orders,
    woocommerce,
)
from tests.mappings.marketplace.support import ITEMS_PATH, sandbox_response

pytestmark = pytest.mark.corpus


@pytest.fixture
async def sqlite(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url)
    await database.migrate()
    async with database.transaction() as session:
        await repo.upsert_partner(session, "acme", name="Acme Trading")
    try:
        yield database
    finally:
        await database.close()


async def stored(database: Database, result: IngestResult) -> list[Any]:
    async with database.session() as session:
        return list(await repo.list_orders(session, document_id=result.document_id))


def expected_number(document: Any) -> str:
    [order] = translate(json.dumps(document).encode()).orders
    return order.order_number


Build = Callable[[Fake, FakeClock, MemoryStateStore], InboundConnector]


def shopify_case() -> tuple[Fake, Build, Any]:
    order = shopify_corpus_order()  # updated in January 2008

    def build(fake: Fake, clock: FakeClock, store: MemoryStateStore) -> InboundConnector:
        return shopify(fake, clock, store, since="2008-01-01T00:00:00Z")  # type: ignore[arg-type]

    return FakeShopify([order], token=SHOPIFY_TOKEN), build, order


def woocommerce_case() -> tuple[Fake, Build, Any]:
    [order] = woo_orders(1, datetime(2024, 3, 18, 13, 6, 2, tzinfo=UTC))
    return FakeWooCommerce([order], key=WOO_KEY, secret=WOO_SECRET), woocommerce, order  # type: ignore[return-value]


def amazon_case() -> tuple[Fake, Build, Any]:
    listed = sandbox_orders()[:1]
    items = sandbox_response(ITEMS_PATH)["payload"]["OrderItems"]
    fake = FakeAmazon(
        listed,
        {listed[0]["AmazonOrderId"]: items},
        client_id=LWA_ID,
        client_secret=LWA_SECRET,
        refresh_token=LWA_REFRESH,
    )

    def build(fake: Fake, clock: FakeClock, store: MemoryStateStore) -> InboundConnector:
        return amazon(fake, clock, store, marketplace_ids=["ATVPDKIKX0DER"], since="1970-01-19T00:00:00Z")  # type: ignore[arg-type]

    items_response = {"payload": {"AmazonOrderId": listed[0]["AmazonOrderId"], "OrderItems": items}}
    document = {"getOrder": {"payload": listed[0]}, "getOrderItems": items_response}
    return fake, build, document


CASES = {"shopify": shopify_case, "woocommerce": woocommerce_case, "amazon": amazon_case}


def clock_for(name: str) -> FakeClock:
    return FakeClock(datetime(1970, 1, 20, tzinfo=UTC)) if name == "amazon" else FakeClock()


@pytest.mark.parametrize("name", list(CASES))
async def test_a_polled_order_becomes_a_canonical_order(
    name: str, sqlite: Database, serve: Callable[[Fake], Fake], store: MemoryStateStore
) -> None:
    fake, build, document = CASES[name]()
    serve(fake)
    connector = build(fake, clock_for(name), store)
    try:
        (result,) = await drain_once(connector, Ingestor(sqlite))
        assert await drain_once(connector, Ingestor(sqlite)) == []  # confirmed: the cursor moved on
    finally:
        await connector.aclose()
    assert result.status == "accepted", result.errors
    assert result.partner_id == "acme"
    (order,) = await stored(sqlite, result)
    assert order.order_number == expected_number(document)
    assert order.partner_id == "acme"
    async with sqlite.session() as session:
        archived = await repo.get_document(session, result.document_id, with_raw=True)
    assert archived is not None and archived.channel == "shop"
    assert json.loads(archived.raw) == document  # the archive holds the marketplace's document


@pytest.mark.parametrize("name", list(CASES))
async def test_a_crash_before_confirm_is_absorbed_by_the_archive(
    name: str, sqlite: Database, serve: Callable[[Fake], Fake], store: MemoryStateStore
) -> None:
    fake, build, _ = CASES[name]()
    serve(fake)
    clock = clock_for(name)
    before = build(fake, clock, store)
    (item,) = await before.poll()
    first = await Ingestor(sqlite).receive(item.payload, channel=item.channel, partner_id=item.partner_id)
    await before.aclose()  # archived, then the process died before confirm
    assert first.status == "accepted", first.errors

    after = build(fake, clock, store)
    try:
        (second,) = await drain_once(after, Ingestor(sqlite))
        assert await drain_once(after, Ingestor(sqlite)) == []
    finally:
        await after.aclose()
    assert second.status == "failed" and second.errors[0].code == "DUPLICATE_DOCUMENT"
    async with sqlite.session() as session:
        assert await repo.count_orders(session) == 1  # nothing lost, nothing twice


class FailingArchive:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def receive(self, raw: bytes, **_: Any) -> IngestResult:
        raise ConnectionError("database unavailable")


async def test_a_failed_archive_commit_leaves_the_cursor(
    sqlite: Database, serve: Callable[[Fake], Fake], store: MemoryStateStore
) -> None:
    fake, build, _ = shopify_case()
    serve(fake)
    connector = build(fake, FakeClock(), store)
    try:
        with pytest.raises(ConnectionError):
            await drain_once(connector, FailingArchive(sqlite))
        (result,) = await drain_once(connector, Ingestor(sqlite))
    finally:
        await connector.aclose()
    assert result.status == "accepted"
