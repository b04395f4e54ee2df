"""Transactional outbox: messages are rows committed with the change that causes them; a relay moves
them to the bus with confirms and marks them published afterwards. A crash between the publish and the
mark republishes the same message id, which the idempotent consumers absorb."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import Bus, BusMessage
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
