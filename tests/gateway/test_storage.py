"""Storage on SQLite and on the real PostgreSQL: the schema comes from the Alembic migrations, and the
repository keeps what it is given (bytes, decimals, dates) exactly."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from gateway.core.canonical import Order, OrderLine, OrderSource, Party
from gateway.core.errors import Issue
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.repository import IdentifierSpec, InterchangeKey

TABLES = {
    "partners",
    "partner_identifiers",
    "documents",
    "interchanges",
    "orders",
    "order_lines",
    "order_events",
    "failures",
    "alembic_version",
}


async def test_migrations_create_every_table(database: Database) -> None:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert names >= TABLES


async def test_migrating_twice_is_harmless(database: Database) -> None:
    await database.migrate()
    async with database.session() as session:
        assert await repo.count_orders(session) == 0


async def test_partner_identifiers_match_with_and_without_qualifier(database: Database) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session,
            "hexa",
            name="Hexa Retail",
            identifiers=[IdentifierSpec("edifact", "14", "5412345000013"), IdentifierSpec("x12", "", "HEXA")],
        )
    async with database.transaction() as session:
        # extending keeps existing identifiers and does not duplicate them
        partner = await repo.upsert_partner(
            session, "hexa", name=None, identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )
        assert partner.name == "Hexa Retail"
        assert len(partner.identifiers) == 2
    async with database.session() as session:
        exact = await repo.find_identifier(session, IdentifierSpec("edifact", "14", "5412345000013"))
        assert exact is not None and exact.partner_id == "hexa"
        assert await repo.find_identifier(session, IdentifierSpec("edifact", "ZZ", "5412345000013")) is None
        any_qualifier = await repo.find_identifier(session, IdentifierSpec("x12", "ZZ", "HEXA"))
        assert any_qualifier is not None and any_qualifier.partner_id == "hexa"


async def test_archive_keeps_bytes_and_hash(database: Database) -> None:
    raw = b"UNB+UNOC:3+A+B+240101:1200+1'\x00\xff binary tail"
    async with database.transaction() as session:
        document = await repo.archive_document(session, raw, channel="api", filename="x.edi")
        document_id = document.id
    async with database.session() as session:
        stored = await repo.get_document(session, document_id, with_raw=True)
        assert stored is not None
        assert stored.raw == raw
        assert stored.sha256 == hashlib.sha256(raw).hexdigest()
        assert stored.size == len(raw)
        assert stored.status == "received"


def _order(number: str) -> Order:
    return Order(
        order_number=number,
        order_date=date(2024, 11, 20),
        currency="EUR",
        buyer=Party(name="Hexa"),
        lines=[
            OrderLine(
                line_number="1", gtin="4006381333931", quantity=Decimal("12.5"), unit_price=Decimal("0.0001")
            ),
            OrderLine(line_number="2", buyer_item_id="B-2", quantity=Decimal("3")),
        ],
        source=OrderSource(format="edifact", message_type="ORDERS", message_control_ref="1"),
    )


async def test_orders_round_trip_with_exact_decimals(database: Database) -> None:
    async with database.transaction() as session:
        document = await repo.archive_document(session, b"x", channel="cli")
        record = await repo.record_order(
            session,
            _order("PO-1"),
            document_id=document.id,
            sequence=1,
            partner_id=None,
            warnings=[Issue(code="W", message="w", severity="warning")],
        )
        order_id = record.id
    async with database.session() as session:
        stored = await repo.get_order(session, order_id)
        assert stored is not None
        assert [line.quantity for line in stored.lines] == [Decimal("12.5"), Decimal("3")]
        assert stored.lines[0].unit_price == Decimal("0.0001")
        assert stored.lines[0].gtin == "4006381333931"
        assert Order.model_validate(stored.canonical) == _order("PO-1")
        assert [event.status for event in stored.events] == ["received"]
        assert stored.warnings[0]["code"] == "W"
        listed = await repo.list_orders(session, document_id=stored.document_id)
        assert [o.id for o in listed] == [order_id]


async def test_interchange_reference_is_unique(database: Database) -> None:
    key = InterchangeKey("edifact", "14", "5412345000013", "14", "5790000274017", "ICR1")
    async with database.transaction() as session:
        document = await repo.archive_document(session, b"a", channel="cli")
        await repo.record_interchange(session, key, document_id=document.id, partner_id=None)
    async with database.session() as session:
        found = await repo.find_interchange(session, key)
        assert found is not None and found.document_id == document.id
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            other = await repo.archive_document(session, b"b", channel="cli")
            await repo.record_interchange(session, key, document_id=other.id, partner_id=None)
            await session.flush()


async def test_failures_keep_every_issue(database: Database) -> None:
    issues = [
        Issue(code="EDIFACT_UNT_COUNT", message="bad count", segment="UNT", position=18, element="0074"),
        Issue(code="OTHER", message="second"),
    ]
    async with database.transaction() as session:
        document = await repo.archive_document(session, b"a", channel="cli")
        failure = await repo.record_failure(
            session, document_id=document.id, stage="translate", issues=issues
        )
        failure_id = failure.id
    async with database.session() as session:
        stored = await repo.get_failure(session, failure_id)
        assert stored is not None
        assert (stored.code, stored.segment, stored.position, stored.element) == (
            "EDIFACT_UNT_COUNT",
            "UNT",
            18,
            "0074",
        )
        assert [i["code"] for i in stored.issues] == ["EDIFACT_UNT_COUNT", "OTHER"]
        assert "bad count" in stored.reason and "second" in stored.reason
        assert [f.id for f in await repo.list_failures(session)] == [failure_id]
