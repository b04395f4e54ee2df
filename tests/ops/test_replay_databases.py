"""The replay paths on SQLite and on the real PostgreSQL server: the CLI end to end on the configured
database, and two operators replaying the same failure at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from gateway.failed import FailedRef, NotOpen, replay_failed, replay_failed_now
from gateway.ingest import Ingestor
from gateway.settings import Settings, get_settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import AuditEntry, Failure, OrderRecord, OutboxMessage
from gateway.storage.repository import IdentifierSpec
from tests.ops.helpers import EDIFACT, HEXA_EDIFACT_ID, audit_rows, cli, cli_json, outbox, park, parked_status


@pytest.fixture
def configured(database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI pointed at this test's database (SQLite file or PostgreSQL)."""
    monkeypatch.setenv("ORDERGATE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_cli_replay_paths(configured: str) -> None:
    code, output = cli("ingest", str(EDIFACT))
    assert code == 1, output
    [failure] = cli_json("failed", "list")["failures"]
    parked_id, message_id = park(routing_key="parked.route.hexa._")
    assert [i["id"] for i in cli_json("failed", "list")["failures"]] == [parked_id, failure["id"]]

    assert cli("partners", "add", "hexa", "--edifact", HEXA_EDIFACT_ID)[0] == 0
    code, output = cli(
        "failed", "replay", failure["id"], "--now", "--reason", "registered", "--actor", "alice"
    )
    assert code == 0 and "accepted, 1 order(s)" in output, output
    [order] = cli_json("orders", "list")["orders"]
    assert order["order_number"] == "PO-4711" and order["document_id"] == failure["document_id"]

    code, output = cli("failed", "replay", parked_id, "--reason", "route set", "--actor", "bob")
    assert code == 0 and "queued for reprocessing" in output, output
    [row] = outbox(message_id)
    assert row.routing_key == "route.hexa._"
    assert parked_status(parked_id) == "replayed"

    for cli_id in (failure["id"], parked_id):
        code, output = cli("failed", "replay", cli_id)
        assert code == 1 and "already replayed" in output
    code, output = cli("failed", "discard", failure["id"])
    assert code == 2 and "--reason" in output

    assert [(e.actor, e.action, e.target, e.reason) for e in audit_rows()] == [
        ("alice", "replay", f"failure:{failure['id'][1:]}", "registered"),
        ("bob", "replay", f"parked:{parked_id[1:]}", "route set"),
    ]


async def _failure_after_registering(database: Database) -> FailedRef:
    result = await Ingestor(database).receive(EDIFACT.read_bytes(), channel="cli")
    assert result.status == "failed" and result.failure_id is not None
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )
    return FailedRef("document", result.failure_id)


async def _count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_concurrent_replay_now_processes_the_document_once(database: Database) -> None:
    ref = await _failure_after_registering(database)
    outcomes = await asyncio.gather(
        *(replay_failed_now(database, ref, actor=f"op{n}", reason=None) for n in range(2)),
        return_exceptions=True,
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], NotOpen) and "already replayed" in str(refused[0])
    assert done[0].processed is not None and done[0].processed.status == "accepted"
    assert await _count(database, OrderRecord) == 1
    assert await _count(database, AuditEntry) == 1
    assert await _count(database, Failure) == 1  # no DUPLICATE_INTERCHANGE failure from a second run


async def test_concurrent_queued_replays_enqueue_once(database: Database) -> None:
    ref = await _failure_after_registering(database)
    outcomes = await asyncio.gather(
        *(replay_failed(database, ref, actor=f"op{n}", reason=None) for n in range(3)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, NotOpen) for o in outcomes if isinstance(o, BaseException))
    async with database.session() as session:
        keys = (await session.scalars(select(OutboxMessage.routing_key))).all()
    assert [k.split(".")[0] for k in keys] == ["intake"]
    assert await _count(database, AuditEntry) == 1
