"""Ingest on SQLite and PostgreSQL: raw bytes archived first, then every order stored, or one failure
with a precise reason. Nothing received is ever dropped."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gateway.ingest import Ingestor
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.repository import IdentifierSpec

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
X12 = (FIXTURES / "850_4010_basic.edi").read_bytes()


async def _partner(database: Database, partner_id: str, *specs: IdentifierSpec) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(session, partner_id, name=partner_id.title(), identifiers=specs)


@pytest.fixture
async def hexa(database: Database) -> str:
    await _partner(database, "hexa", IdentifierSpec("edifact", "14", "5412345000013"))
    return "hexa"


async def _document_state(database: Database, document_id: str) -> tuple[str, bytes, int, int]:
    async with database.session() as session:
        document = await repo.get_document(session, document_id, with_raw=True)
        assert document is not None
        orders = await repo.list_orders(session, document_id=document_id)
        failures = await repo.list_failures(session, status=None, document_id=document_id)
        return document.status, document.raw, len(orders), len(failures)


async def test_edifact_order_is_archived_then_stored(database: Database, hexa: str) -> None:
    result = await Ingestor(database).receive(EDIFACT, channel="api", filename="po.edi")
    assert result.status == "accepted", result.errors
    assert result.partner_id == hexa
    assert len(result.order_ids) == 1
    status, raw, orders, failures = await _document_state(database, result.document_id)
    assert (status, raw, orders, failures) == ("accepted", EDIFACT, 1, 0)
    async with database.session() as session:
        order = await repo.get_order(session, result.order_ids[0])
        document = await repo.get_document(session, result.document_id)
    assert order is not None and document is not None
    assert document.sha256 == hashlib.sha256(EDIFACT).hexdigest()
    assert order.order_number == "PO-4711"
    assert order.partner_id == hexa
    assert [line.gtin for line in order.lines] == ["4006381333931", "5012345678900"]
    assert order.canonical["source"]["raw_document_id"] == result.document_id
    assert order.canonical["source"]["channel"] == "api"
    assert order.canonical["source"]["interchange_control_ref"] == "ICR0001"


async def test_x12_partner_matches_by_isa_sender(database: Database) -> None:
    await _partner(database, "acme", IdentifierSpec("x12", "ZZ", "BUYERX12"))
    result = await Ingestor(database).receive(X12, channel="folder", partner_id="acme")
    assert result.status == "accepted", result.errors
    async with database.session() as session:
        order = await repo.get_order(session, result.order_ids[0])
    assert order is not None and order.order_number == "PO-9001" and order.line_count == 2


async def test_partner_registered_by_gln_is_found_from_edifact_qualifier_14(database: Database) -> None:
    await _partner(database, "hexa", IdentifierSpec("gln", "", "5412345000013"))
    result = await Ingestor(database).receive(EDIFACT, channel="api")
    assert result.status == "accepted", result.errors
    assert result.partner_id == "hexa"


async def test_unknown_sender_is_a_failure_with_a_hint(database: Database) -> None:
    result = await Ingestor(database).receive(EDIFACT, channel="api")
    assert result.status == "failed"
    assert [e.code for e in result.errors] == ["UNKNOWN_SENDER"]
    assert "5412345000013" in result.errors[0].message
    assert "ordergate partners add" in result.errors[0].message
    assert await _document_state(database, result.document_id) == ("failed", EDIFACT, 0, 1)


async def test_a_partner_channel_cannot_carry_another_partners_interchange(
    database: Database, hexa: str
) -> None:
    await _partner(database, "other", IdentifierSpec("edifact", "14", "4000000000009"))
    result = await Ingestor(database).receive(EDIFACT, channel="folder", partner_id="other")
    assert result.status == "failed"
    assert result.errors[0].code == "SENDER_NOT_PARTNER"
    assert "hexa" in result.errors[0].message
    assert (result.errors[0].segment, result.errors[0].element) == ("UNB", "0004")


async def test_unconfigured_partner_folder_is_a_failure(database: Database) -> None:
    result = await Ingestor(database).receive(EDIFACT, channel="folder", partner_id="ghost")
    assert [e.code for e in result.errors] == ["UNKNOWN_PARTNER"]
    assert (await _document_state(database, result.document_id))[0] == "failed"


async def test_same_bytes_twice_is_a_duplicate(database: Database, hexa: str) -> None:
    ingestor = Ingestor(database)
    first = await ingestor.receive(EDIFACT, channel="api")
    second = await ingestor.receive(EDIFACT, channel="api")
    assert first.status == "accepted"
    assert second.status == "failed"
    assert second.errors[0].code == "DUPLICATE_DOCUMENT"
    assert first.document_id in second.errors[0].message
    assert await _document_state(database, second.document_id) == ("failed", EDIFACT, 0, 1)
    async with database.session() as session:
        assert await repo.count_orders(session) == 1


async def test_same_interchange_reference_with_other_bytes_is_a_duplicate(
    database: Database, hexa: str
) -> None:
    ingestor = Ingestor(database)
    await ingestor.receive(EDIFACT, channel="api")
    changed = EDIFACT.replace(b"PO-4711", b"PO-4712")
    result = await ingestor.receive(changed, channel="api")
    assert result.status == "failed"
    assert result.errors[0].code == "DUPLICATE_INTERCHANGE"
    assert "ICR0001" in result.errors[0].message
    assert result.errors[0].element == "0020"


async def test_a_failed_document_resent_after_the_partner_is_fixed_is_accepted(database: Database) -> None:
    ingestor = Ingestor(database)
    refused = await ingestor.receive(EDIFACT, channel="api")
    assert refused.status == "failed"
    await _partner(database, "hexa", IdentifierSpec("edifact", "14", "5412345000013"))
    again = await ingestor.receive(EDIFACT, channel="api")
    assert again.status == "accepted", again.errors


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "EMPTY_DOCUMENT"),
        (b"\x00\x01\x02\xff" * 50, "UNKNOWN_FORMAT"),
        (b"BGM+220+PO1+9'DTM+137:20240101:102'", "EDIFACT_NOT_INTERCHANGE"),
    ],
)
async def test_untranslatable_documents_are_kept_with_their_reason(
    database: Database, payload: bytes, code: str
) -> None:
    result = await Ingestor(database).receive(payload, channel="api")
    assert result.status == "failed"
    assert result.errors[0].code == code
    assert await _document_state(database, result.document_id) == ("failed", payload, 0, 1)


async def test_broken_envelope_stores_no_order(database: Database, hexa: str) -> None:
    truncated = EDIFACT[: EDIFACT.index(b"UNZ+")]
    result = await Ingestor(database).receive(truncated, channel="api")
    assert result.status == "failed"
    assert any(e.segment == "UNZ" for e in result.errors)
    assert await _document_state(database, result.document_id) == ("failed", truncated, 0, 1)


async def test_an_unexpected_crash_after_archiving_is_recorded_not_lost(
    database: Database, hexa: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("mapping bug")

    monkeypatch.setattr("gateway.ingest.translate_for", explode)
    result = await Ingestor(database).receive(EDIFACT, channel="folder", partner_id=hexa)
    assert result.status == "failed"
    assert result.errors[0].code == "INTERNAL_ERROR"
    assert "mapping bug" in result.errors[0].message
    assert await _document_state(database, result.document_id) == ("failed", EDIFACT, 0, 1)


async def test_a_marketplace_order_taken_again_after_a_change_is_an_update_not_applied(
    database: Database,
) -> None:
    """Polling by update time re-offers an order whenever it changes: not a resent interchange but a
    change that ops must see (a cancellation, say), and never a second order."""
    import json

    fixture = Path(__file__).resolve().parent.parent / "mappings" / "marketplace" / "fixtures"
    order = json.loads((fixture / "woocommerce_order_v3.json").read_text())
    async with database.transaction() as session:
        await repo.upsert_partner(session, "woo", name="Woo shop")
    ingestor = Ingestor(database)
    first = await ingestor.receive(json.dumps(order).encode(), channel="api", partner_id="woo")
    assert first.status == "accepted", first.errors
    order["status"] = "cancelled"
    order["date_modified_gmt"] = "2099-01-01T00:00:00"
    again = await ingestor.receive(json.dumps(order).encode(), channel="api", partner_id="woo")
    assert again.status == "failed" and again.order_ids == []
    [issue] = again.errors
    assert issue.code == "ORDER_UPDATE_NOT_APPLIED"
    assert first.document_id in issue.message and "by hand" in issue.message
    same = await ingestor.receive(json.dumps(order).encode(), channel="api", partner_id="woo")
    assert [e.code for e in same.errors] == ["ORDER_UPDATE_NOT_APPLIED"]  # only accepted bytes count as seen
