"""The outbox relay to the embedded bus, with several processes on one database: every committed
outbox row reaches its queue exactly once (two `serve`/`worker` processes on one SQLite file used to
publish some rows twice, since SQLite has no SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from gateway.bus.embedded import TABLE, EmbeddedBus
from gateway.pipeline.messages import document_message
from gateway.pipeline.outbox import OutboxRelay, enqueue
from gateway.storage.database import Database
from gateway.storage.models import OutboxMessage

ROWS = 1_200


async def _fill_outbox(database: Database, count: int) -> set[str]:
    ids: set[str] = set()
    async with database.transaction() as session:
        messages = [document_message("intake", f"doc-{n}", partner="p", channel="api") for n in range(count)]
        await enqueue(session, messages)
        ids.update(m.message_id for m in messages)
    return ids


async def _relay_until_empty(relay: OutboxRelay) -> int:
    moved = 0
    while published := await relay.relay_once():
        moved += published
        await asyncio.sleep(0)
    return moved


async def test_two_processes_relaying_one_outbox_enqueue_every_row_once(
    database: Database, database_url: str
) -> None:
    wanted = await _fill_outbox(database, ROWS)
    # Two engines on one database, as two processes would have; small batches so that they interleave.
    first, second = Database(database_url), Database(database_url)
    try:
        # Connected first: opening the second engine's connection took long enough for the first relay
        # to move every row alone (seen under load), which tests nothing.
        await asyncio.gather(first.ping(), second.ping())
        relays = [OutboxRelay(db, EmbeddedBus(db), batch=25) for db in (first, second)]
        moved = await asyncio.gather(*(_relay_until_empty(relay) for relay in relays))
    finally:
        await first.close()
        await second.close()

    assert sum(moved) == ROWS
    assert all(count > 0 for count in moved), moved  # both took part
    async with database.session() as session:
        queued = Counter((await session.scalars(select(TABLE.c.message_id))).all())
        unpublished = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
    assert set(queued) == wanted
    assert max(queued.values()) == 1, [m for m, n in queued.items() if n > 1][:5]
    assert unpublished == 0


async def test_a_relay_whose_enqueue_fails_leaves_the_rows_for_the_next_try(database: Database) -> None:
    await _fill_outbox(database, 10)

    class FailingBus(EmbeddedBus):
        async def publish_in(self, session, messages):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk full")

    relay = OutboxRelay(database, FailingBus(database))
    try:
        await relay.relay_once()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure must reach the relay loop")
    async with database.session() as session:
        unpublished = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
        queued = await session.scalar(select(func.count()).select_from(TABLE))
    assert (unpublished, queued) == (10, 0)  # nothing claimed, nothing half-moved

    assert await _relay_until_empty(OutboxRelay(database, EmbeddedBus(database))) == 10
