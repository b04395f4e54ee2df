"""A stage consumer publishes what its transaction caused right after the commit, and only then lets
its message be acknowledged. When that publish fails (or the worker dies before it), the message is
not acknowledged; its redelivery finds it processed, does not run the stage again, and publishes the
very messages the first handling committed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.bus.base import BusMessage
from gateway.bus.embedded import TABLE, EmbeddedBus
from gateway.pipeline.consumer import Outcome, idempotent
from gateway.pipeline.messages import order_message
from gateway.pipeline.outbox import NotPublished, Publisher
from gateway.storage.database import Database
from gateway.storage.models import OutboxMessage, ProcessedMessage


class RouteEveryOrder:
    """A review-like stage: each message causes one new route message (a fresh id on every run)."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    async def __call__(self, session: object, messages: Sequence[BusMessage]) -> dict[str, Outcome]:
        self.runs.extend(m.message_id for m in messages)
        return {
            m.message_id: [order_message("route", m.json()["order_id"], partner="p", channel=None)]
            for m in messages
        }


async def _queued(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.scalars(select(TABLE.c.message_id).order_by(TABLE.c.id))).all())


async def _outbox_rows(database: Database) -> list[tuple[str, str | None]]:
    async with database.session() as session:
        rows = await session.execute(select(OutboxMessage.message_id, OutboxMessage.batch))
        return [(r.message_id, r.batch) for r in rows]


async def test_a_publish_that_fails_after_the_commit_is_redone_by_the_redelivery(
    database: Database, tmp_path: Path
) -> None:
    # The bus keeps its queues in another database, not migrated yet: publishing to it fails.
    elsewhere = Database(f"sqlite+aiosqlite:///{tmp_path / 'bus.db'}")
    try:
        publisher = Publisher(database, EmbeddedBus(elsewhere))
        assert publisher.direct is None
        stage = RouteEveryOrder()
        handle = idempotent("review", stage, publisher)
        incoming = order_message("review", "order-1", partner="p", channel=None)

        with pytest.raises(NotPublished):
            await handle(incoming)
        (caused, batch), *more = await _outbox_rows(database)
        assert not more and batch is not None  # committed with the effect, under the batch
        async with database.session() as session:
            record = await session.get(ProcessedMessage, ("review", incoming.message_id))
        assert record is not None and record.batch == batch

        await elsewhere.migrate()  # the bus is back
        await handle(incoming)  # the broker's redelivery of the unacknowledged message
        assert stage.runs == [incoming.message_id]  # the stage did not run again
        assert await _queued(elsewhere) == [caused]  # what the first handling committed, published
    finally:
        await elsewhere.close()


async def test_a_message_redelivered_after_a_successful_publish_is_published_again_not_redone(
    database: Database, tmp_path: Path
) -> None:
    elsewhere = Database(f"sqlite+aiosqlite:///{tmp_path / 'bus.db'}")
    await elsewhere.migrate()
    try:
        stage = RouteEveryOrder()
        handle = idempotent("review", stage, Publisher(database, EmbeddedBus(elsewhere)))
        incoming = order_message("review", "order-1", partner="p", channel=None)
        await handle(incoming)
        await handle(incoming)  # e.g. the worker died between the publish and the ack
        assert stage.runs == [incoming.message_id]
        first, second = await _queued(elsewhere)
        assert first == second  # the same message again, which the next stage's consumer absorbs
        async with database.session() as session:
            published = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
            )
        assert published == 0  # nothing left for the relay: the consumer published its own rows
    finally:
        await elsewhere.close()


async def test_on_the_embedded_bus_caused_messages_are_queued_in_the_consumers_transaction(
    database: Database,
) -> None:
    stage = RouteEveryOrder()
    publisher = Publisher(database, EmbeddedBus(database))
    assert publisher.direct is not None
    handle = idempotent("review", stage, publisher)
    messages = [order_message("review", f"order-{n}", partner="p", channel=None) for n in range(3)]
    for message in messages:
        await handle(message)
    assert len(await _queued(database)) == 3
    assert await _outbox_rows(database) == []  # no outbox row, no relay: one transaction
    async with database.session() as session:
        batches = set((await session.scalars(select(ProcessedMessage.batch))).all())
    assert batches == {None}  # nothing a redelivery would have to publish again
