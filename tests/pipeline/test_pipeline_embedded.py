"""The whole pipeline in one process on the embedded bus, on SQLite and PostgreSQL: a document goes
intake → translate → review → route → dispatch and reaches a local webhook 3PL once; what cannot be
done is parked with its reason and completes after a fix and a replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.bus.base import BusSettings
from gateway.bus.embedded import EmbeddedBus
from gateway.pipeline import operations
from gateway.pipeline.runtime import Pipeline
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, Dispatch, OrderRecord, ParkedMessage, PartnerRoute
from gateway.storage.repository import IdentifierSpec
from tests.pipeline.fake_3pl import Fake3PL

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()
SECRET_ENV = "ORDERGATE_TEST_3PL_SECRET"


@pytest.fixture
def fake_3pl(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Fake3PL]:  # type: ignore[misc]
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    with Fake3PL(secret="s3cret") as server:
        yield server


async def _setup(database: Database, url: str, *, route: bool = True) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )
        session.add(
            Destination(
                id="wh1",
                kind="webhook",
                url=url,
                secret_env=SECRET_ENV,
                timeout_seconds=2,
                created_at=repo.utcnow(),
            )
        )
        if route:
            await session.flush()
            session.add(PartnerRoute(partner_id="hexa", destination_id="wh1"))


@pytest.fixture
async def pipeline(database: Database) -> AsyncIterator[Pipeline]:
    bus = EmbeddedBus(
        database, settings=BusSettings(retry_delays=(0.05, 0.1, 0.2), max_attempts=3), poll_interval=0.02
    )
    await bus.connect()
    running = Pipeline(database, bus)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        await bus.close()
        await running.dispatcher.client.aclose()


async def _eventually(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():  # type: ignore[misc]
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("pipeline did not get there in time")
        await asyncio.sleep(0.05)


async def _submit(database: Database, pipeline: Pipeline, raw: bytes, partner: str | None = "hexa") -> str:
    async with database.transaction() as session:
        document = await operations.archive_and_announce(session, raw, channel="api", partner_id=partner)
    pipeline.relay.wake()
    return document.id


async def _statuses(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.scalars(select(OrderRecord.status))).all())


async def test_a_document_flows_through_every_stage_once(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL
) -> None:
    await _setup(database, fake_3pl.url)
    await _submit(database, pipeline, EDIFACT)

    async def dispatched() -> bool:
        return await _statuses(database) == ["dispatched"]

    await _eventually(dispatched)
    async with database.session() as session:
        order = (await session.scalars(select(OrderRecord))).one()
        full = await repo.get_order(session, order.id)
        assert full is not None
        assert [e.status for e in full.events] == ["received", "approved", "routed", "dispatched"]
        dispatch = (await session.scalars(select(Dispatch))).one()
        assert (dispatch.state, dispatch.attempts, dispatch.idempotency_key) == ("SENT", 1, f"{order.id}:1")
    assert fake_3pl.keys_seen() == {f"{order.id}:1": 1}
    sent = fake_3pl.applied[f"{order.id}:1"]
    assert sent["order"]["order_number"] == "PO-4711" and sent["partner"] == "hexa"


async def test_transient_3pl_errors_are_retried_without_duplicates(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL
) -> None:
    await _setup(database, fake_3pl.url)
    fake_3pl.fail_next = 4  # more than the in-place attempts: the bus retry takes over
    await _submit(database, pipeline, EDIFACT)

    async def dispatched() -> bool:
        return await _statuses(database) == ["dispatched"]

    await _eventually(dispatched)
    assert len(fake_3pl.applied) == 1
    assert sum(fake_3pl.keys_seen().values()) == 5


async def test_an_unroutable_order_is_parked_then_replayed_after_the_fix(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL
) -> None:
    await _setup(database, fake_3pl.url, route=False)
    await _submit(database, pipeline, EDIFACT)

    async def parked() -> bool:
        async with database.session() as session:
            return bool(await session.scalar(select(func.count()).select_from(ParkedMessage)))

    await _eventually(parked)
    async with database.session() as session:
        row = (await session.scalars(select(ParkedMessage))).one()
        assert row.stage == "route"
        assert "no default destination" in row.reason
        assert row.order_id is not None
    assert await _statuses(database) == ["approved"]

    async with database.transaction() as session:
        session.add(PartnerRoute(partner_id="hexa", destination_id="wh1"))
        await operations.replay_parked(session, row.id, actor="ops@test", reason="route added")
    pipeline.relay.wake()

    async def dispatched() -> bool:
        return await _statuses(database) == ["dispatched"]

    await _eventually(dispatched)
    assert len(fake_3pl.applied) == 1


async def test_a_refusing_3pl_parks_the_dispatch(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL
) -> None:
    await _setup(database, fake_3pl.url)
    fake_3pl.reject_status = 422
    await _submit(database, pipeline, EDIFACT)

    async def parked() -> bool:
        async with database.session() as session:
            return bool(await session.scalar(select(func.count()).select_from(ParkedMessage)))

    await _eventually(parked)
    async with database.session() as session:
        row = (await session.scalars(select(ParkedMessage))).one()
        dispatch = (await session.scalars(select(Dispatch))).one()
    assert row.stage == "dispatch" and "HTTP 422" in row.reason
    assert dispatch.state == "FAILED"


async def test_a_failed_document_is_replayed_from_its_raw_bytes(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL
) -> None:
    async with database.transaction() as session:
        session.add(
            Destination(
                id="wh1",
                kind="webhook",
                url=fake_3pl.url,
                secret_env=SECRET_ENV,
                timeout_seconds=2,
                created_at=repo.utcnow(),
            )
        )
    document_id = await _submit(database, pipeline, EDIFACT, partner=None)

    async def failed() -> bool:
        async with database.session() as session:
            return bool(await repo.list_failures(session, document_id=document_id))

    await _eventually(failed)
    async with database.transaction() as session:
        [failure] = await repo.list_failures(session, document_id=document_id)
        assert failure.code == "UNKNOWN_SENDER"
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )
        await session.flush()
        session.add(PartnerRoute(partner_id="hexa", destination_id="wh1"))
        await operations.replay_failure(session, failure.id, actor="ops@test", reason="partner added")
    pipeline.relay.wake()

    async def dispatched() -> bool:
        return await _statuses(database) == ["dispatched"]

    await _eventually(dispatched)


@pytest.mark.parametrize("in_flight_for", [0.05, 0.1, 0.15])
async def test_stopping_with_messages_in_flight_does_not_wait_for_a_lease(
    database: Database, in_flight_for: float
) -> None:
    """A stop that settled the last in-flight message used to wait a third of a lease (20 s) for a
    wake-up nobody sent (found stopping `ordergate serve` mid-document)."""
    await _setup(database, "http://127.0.0.1:9/unused", route=False)
    bus = EmbeddedBus(
        database, settings=BusSettings(retry_delays=(0.05,), max_attempts=2), poll_interval=0.02
    )
    await bus.connect()
    running = Pipeline(database, bus)
    await running.start()
    async with database.transaction() as session:
        await operations.archive_and_announce(session, EDIFACT, channel="api", partner_id="hexa")
    running.relay.wake()
    await asyncio.sleep(in_flight_for)
    started = asyncio.get_running_loop().time()
    try:
        await running.stop()
        await bus.close()
    finally:
        await running.dispatcher.client.aclose()
    assert asyncio.get_running_loop().time() - started < 5.0  # the lease here is 60 s: a third is 20 s
