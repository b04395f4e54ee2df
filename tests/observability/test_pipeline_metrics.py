"""Metrics move when documents flow through the pipeline on the embedded bus (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from gateway.bus.base import QUEUES, BusMessage, BusSettings, Park, Retry
from gateway.observability.instrument import failure_outcome
from gateway.observability.metrics import BACKLOG_QUEUES, BacklogProbe, Metrics
from gateway.pipeline.runtime import ALL_STAGES, Pipeline
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import ParkedMessage
from tests.observability.support import EDIFACT, eventually, order_statuses, set_up_partner, submit, value
from tests.pipeline.fake_3pl import Fake3PL

HANDLED = "ordergate_messages_handled_total"


async def test_a_dispatched_document_counts_every_stage_and_its_verdict(
    database: Database, pipeline: Pipeline, metrics: Metrics, fake_3pl: Fake3PL
) -> None:
    await set_up_partner(database, fake_3pl.url)
    await submit(database, pipeline, EDIFACT)

    async def dispatched() -> bool:
        return await order_statuses(database) == ["dispatched"]

    await eventually(dispatched)
    await eventually(lambda: value(metrics, HANDLED, stage="dispatch", outcome="ok") == 1)
    for stage in ("intake", "translate", "review", "route", "dispatch"):
        assert value(metrics, HANDLED, stage=stage, outcome="ok") == 1
        assert value(metrics, HANDLED, stage=stage, outcome="retry") == 0
        assert value(metrics, HANDLED, stage=stage, outcome="parked") == 0
        assert value(metrics, "ordergate_stage_handler_seconds_count", stage=stage) == 1
        assert value(metrics, "ordergate_stage_handler_seconds_sum", stage=stage) > 0
    assert value(metrics, "ordergate_documents_received_total", channel="api", verdict="accepted") == 1
    assert value(metrics, "ordergate_documents_received_total", channel="api", verdict="failed") == 0
    # Every stage this pipeline runs has its series from the start, parking included.
    for stage in ALL_STAGES:
        assert metrics.registry.get_sample_value(HANDLED, {"stage": stage, "outcome": "parked"}) is not None


async def test_a_failed_document_counts_its_failure_code(
    database: Database, pipeline: Pipeline, metrics: Metrics, fake_3pl: Fake3PL
) -> None:
    await set_up_partner(database, fake_3pl.url, partner=False)
    document_id = await submit(database, pipeline, EDIFACT, partner=None)

    async def failed() -> bool:
        return value(metrics, "ordergate_documents_received_total", channel="api", verdict="failed") == 1

    await eventually(failed)
    async with database.session() as session:
        [failure] = await repo.list_failures(session, document_id=document_id)
    assert failure.code == "UNKNOWN_SENDER"
    assert value(metrics, "ordergate_document_failures_total", code="UNKNOWN_SENDER") == 1
    assert value(metrics, "ordergate_documents_received_total", channel="api", verdict="accepted") == 0
    # A failed document is a handled message, not a failed one: the stage did its job.
    assert value(metrics, HANDLED, stage="translate", outcome="ok") == 1


async def test_transient_3pl_errors_count_as_retries(
    database: Database, pipeline: Pipeline, metrics: Metrics, fake_3pl: Fake3PL
) -> None:
    await set_up_partner(database, fake_3pl.url)
    fake_3pl.fail_next = 4  # more than the in-place attempts: the bus retries once
    await submit(database, pipeline, EDIFACT)

    async def dispatched() -> bool:
        return await order_statuses(database) == ["dispatched"]

    await eventually(dispatched)
    await eventually(lambda: value(metrics, HANDLED, stage="dispatch", outcome="ok") == 1)
    assert value(metrics, HANDLED, stage="dispatch", outcome="retry") == 1
    assert value(metrics, HANDLED, stage="dispatch", outcome="parked") == 0
    assert value(metrics, "ordergate_stage_handler_seconds_count", stage="dispatch") == 2


async def test_an_unroutable_order_counts_as_parked(
    database: Database, pipeline: Pipeline, metrics: Metrics, fake_3pl: Fake3PL
) -> None:
    await set_up_partner(database, fake_3pl.url, route=False)
    await submit(database, pipeline, EDIFACT)

    async def recorded() -> bool:
        async with database.session() as session:
            return bool(await session.scalar(select(func.count()).select_from(ParkedMessage)))

    await eventually(recorded)
    await eventually(lambda: value(metrics, HANDLED, stage="parking", outcome="ok") == 1)
    assert value(metrics, HANDLED, stage="route", outcome="parked") == 1
    assert value(metrics, HANDLED, stage="route", outcome="ok") == 0
    assert value(metrics, "ordergate_messages_parked_total", stage="route") == 1


async def test_the_backlog_reports_every_queue_and_the_outbox(database: Database, pipeline: Pipeline) -> None:
    probe = BacklogProbe(pipeline.bus, database, max_age=0)
    backlog = await probe.measure()
    assert backlog.bus_ok and backlog.outbox_ok
    assert set(backlog.depths) == set(BACKLOG_QUEUES) == {*QUEUES, "parked"}
    assert backlog.outbox == 0
    # Unpublished outbox rows are the backlog (the relay is stopped so they stay put).
    await pipeline.relay.stop()
    await submit(database, pipeline, EDIFACT)
    assert (await probe.measure()).outbox == 1


class _SlowBus:
    settings = BusSettings()

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.asked: list[str] = []

    async def depth(self, queue: str) -> int:
        self.asked.append(queue)
        if queue == "review":
            await asyncio.sleep(self.delay)
        return 3


async def test_a_slow_bus_cannot_hold_the_scrape(database: Database) -> None:
    probe = BacklogProbe(_SlowBus(delay=30), database, timeout=0.2, max_age=0)
    started = time.monotonic()
    backlog = await probe.measure()
    assert time.monotonic() - started < 2
    assert not backlog.bus_ok and backlog.outbox_ok
    assert backlog.depths == {"intake": 3, "translate": 3}  # what was measured in time is kept
    families = {f.name: f for f in backlog.families()}
    assert [s.value for s in families["ordergate_backlog_up"].samples] == [0, 1]


async def test_measurements_are_reused_for_a_while(database: Database) -> None:
    bus = _SlowBus(delay=0)
    probe = BacklogProbe(bus, database, max_age=60)
    first, second = await asyncio.gather(probe.measure(), probe.measure())
    assert first is second
    assert len(bus.asked) == len(BACKLOG_QUEUES)


def test_failure_outcomes_follow_the_bus_contract() -> None:
    settings = BusSettings(max_attempts=3)
    first = BusMessage(routing_key="route._._", body=b"{}")
    last = BusMessage(routing_key="route._._", body=b"{}", attempt=3)
    assert failure_outcome("route", first, Retry("later"), settings) == "retry"
    assert failure_outcome("route", first, RuntimeError("boom"), settings) == "retry"
    assert failure_outcome("route", first, Park("no"), settings) == "parked"
    assert failure_outcome("route", last, RuntimeError("boom"), settings) == "parked"
    assert failure_outcome("parking", last, Park("no"), settings) == "retry"
