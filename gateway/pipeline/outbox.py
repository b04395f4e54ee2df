"""Transactional outbox: messages are rows committed with the change that causes them; a relay moves
them to the bus with confirms and marks them published afterwards. A crash between the publish and the
mark republishes the same message id, which the idempotent consumers absorb. To the embedded bus (a
table of the same database) the move is one transaction, so nothing is ever published twice there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import Bus, BusMessage, TransactionalBus
from gateway.storage.database import Database
from gateway.storage.models import OutboxMessage
from gateway.storage.repository import table_of, utcnow

log = logging.getLogger("ordergate.outbox")


async def enqueue(session: AsyncSession, messages: Sequence[BusMessage]) -> None:
    """Add messages to the caller's transaction (one statement); they are published only if it commits."""
    if not messages:
        return
    now = utcnow()
    await session.execute(
        insert(table_of(OutboxMessage)),
        [
            {
                "message_id": m.message_id,
                "routing_key": m.routing_key,
                "body": m.body,
                "headers": dict(m.headers),
                "created_at": now,
            }
            for m in messages
        ],
    )


class OutboxRelay:
    def __init__(self, database: Database, bus: Bus, *, batch: int = 500, idle_interval: float = 0.2) -> None:
        self.database = database
        self.bus = bus
        self.batch = batch
        self.idle_interval = idle_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Tell the relay new rows were committed (in this process), so it need not wait for its poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch of pending messages; the number published."""
        if isinstance(self.bus, TransactionalBus) and self.bus.database_url == self.database.url:
            return await self._move_once(self.bus)
        outbox = table_of(OutboxMessage)
        async with self.database.transaction() as session:
            query = (
                select(
                    outbox.c.id, outbox.c.message_id, outbox.c.routing_key, outbox.c.body, outbox.c.headers
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
            )
            if self.database.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query.limit(self.batch))).all()
            if not rows:
                return 0
            await self.bus.publish(
                [
                    BusMessage(
                        routing_key=r.routing_key, body=r.body, message_id=r.message_id, headers=r.headers
                    )
                    for r in rows
                ]
            )
            await session.execute(
                update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(published_at=utcnow())
            )
            return len(rows)

    async def _move_once(self, bus: TransactionalBus) -> int:
        """Outbox rows to the embedded bus's queue in one transaction: claimed by an UPDATE … RETURNING
        (which takes SQLite's write lock, or skips rows another relay has locked on PostgreSQL) and
        enqueued before the commit, so no row is ever published twice, whatever the number of
        processes, and none is left claimed by a process that died."""
        outbox = table_of(OutboxMessage)
        pending = (
            select(outbox.c.id).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(self.batch)
        )
        if self.database.engine.dialect.name == "postgresql":
            pending = pending.with_for_update(skip_locked=True)
        async with self.database.transaction() as session:
            claimed = (
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(pending.scalar_subquery()), outbox.c.published_at.is_(None))
                    .values(published_at=utcnow())
                    .returning(
                        outbox.c.id,
                        outbox.c.message_id,
                        outbox.c.routing_key,
                        outbox.c.body,
                        outbox.c.headers,
                    )
                )
            ).all()
            messages = [
                BusMessage(routing_key=r.routing_key, body=r.body, message_id=r.message_id, headers=r.headers)
                for r in sorted(claimed, key=lambda r: r.id)
            ]
            await bus.publish_in(session, messages)
        bus.wake(messages)
        return len(messages)

    async def run(self) -> None:
        while True:
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                published = 0
                await asyncio.sleep(1.0)
            if published < self.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
