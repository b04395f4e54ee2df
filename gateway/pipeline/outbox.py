"""Transactional outbox: messages are committed with the change that causes them (RELIABILITY rule 2),
and published in one of two ways.

- **By the relay** (`OutboxRelay`): rows written outside a stage consumer (the API's submit, a replay)
  are read back, published with confirms and marked published afterwards. A crash between the publish
  and the mark republishes the same message id, which the idempotent consumers absorb.
- **By the consumer that committed them** (`Publisher`): a stage's transaction writes its caused
  messages under a batch id and the consumer publishes them from memory right after the commit, then
  acknowledges the messages of the batch only once the confirms are in. No read-back, no second
  transaction, no wait for a relay: this is what each stage hop costs in latency and CPU (profiled,
  docs/BENCHMARKS.md). A crash or a failed publish after the commit leaves the batch's messages
  unacknowledged; the broker delivers them again, the consumer finds them processed, and it publishes
  again the rows of the batch their processed records name (`resend`).

To the embedded bus (a table of the same database) the messages are enqueued inside the transaction
itself, by the consumer and by the relay alike, so nothing is ever published twice there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import Bus, BusMessage, TransactionalBus
from gateway.core.errors import TransportError
from gateway.pipeline.failpoints import FAILPOINT_ARMED, failpoint
from gateway.storage.database import Database
from gateway.storage.ids import new_id
from gateway.storage.models import OutboxMessage
from gateway.storage.repository import table_of, utcnow

log = logging.getLogger("ordergate.outbox")

_PENDING = "ordergate.outbox.pending"
_OUTBOX_INSERT = insert(table_of(OutboxMessage))


class NotPublished(TransportError):
    """A consumer's transaction committed but the messages it caused could not be published: its
    messages must not be acknowledged (a redelivery publishes them again)."""

    code = "NOT_PUBLISHED"


@dataclass(slots=True)
class Pending:
    """What one consumer transaction causes, published by `Publisher` once it has committed."""

    batch: str
    direct: TransactionalBus | None
    messages: list[BusMessage] = field(default_factory=list)


def pending_of(session: AsyncSession) -> Pending | None:
    return session.info.get(_PENDING)


def recovery_batch(session: AsyncSession) -> str | None:
    """The batch a processed record names: the one whose rows a redelivery publishes again (none when
    the messages went straight into the embedded bus's table with the commit)."""
    pending = pending_of(session)
    return pending.batch if pending is not None and pending.direct is None else None


async def enqueue(session: AsyncSession, messages: Sequence[BusMessage]) -> None:
    """Add messages to the caller's transaction (one statement); they are published only if it commits."""
    if not messages:
        return
    pending = pending_of(session)
    if pending is not None and pending.direct is not None:
        await pending.direct.publish_in(session, messages)
        pending.messages.extend(messages)
        return
    now = utcnow()
    # A consumer's rows are published by the consumer itself (after the commit), the others by the relay.
    published_at, batch = (now, pending.batch) if pending is not None else (None, None)
    await session.execute(
        _OUTBOX_INSERT,
        [
            {
                "message_id": m.message_id,
                "routing_key": m.routing_key,
                "body": m.body,
                "headers": dict(m.headers),
                "created_at": now,
                "published_at": published_at,
                "batch": batch,
            }
            for m in messages
        ],
    )
    if pending is not None:
        pending.messages.extend(messages)


def _same_database(bus: Bus, database: Database) -> TransactionalBus | None:
    if isinstance(bus, TransactionalBus) and bus.database_url == database.url:
        return bus
    return None


class Publisher:
    """Transactions whose caused messages the consumer publishes itself, right after the commit."""

    def __init__(self, database: Database, bus: Bus) -> None:
        self.database = database
        self.bus = bus
        self.direct = _same_database(bus, database)

    @contextlib.asynccontextmanager
    async def transaction(self, stage: str) -> AsyncIterator[AsyncSession]:
        """Like `Database.transaction`, and once it has committed, what it enqueued (or `resend`) is
        published before the block returns. `NotPublished` if that fails: the caller must then not
        acknowledge its messages (their redelivery publishes the batch again)."""
        pending = Pending(batch=new_id(), direct=self.direct)
        async with self.database.transaction() as session:
            session.info[_PENDING] = pending
            yield session
        if FAILPOINT_ARMED:
            failpoint("after_commit_before_publish", stage)
        if not pending.messages:
            return
        if pending.direct is not None:
            pending.direct.wake(pending.messages)
            return
        try:
            await self.bus.publish(pending.messages)
        except Exception as error:
            raise NotPublished(f"committed, but publishing what it caused failed: {error}") from error

    @staticmethod
    async def resend(session: AsyncSession, batches: Collection[str | None]) -> None:
        """Publish again, after this transaction, the messages these batches committed: their consumer
        may have died (or lost the broker) between its commit and its publish."""
        wanted = {b for b in batches if b}
        pending = pending_of(session)
        if not wanted or pending is None:
            return
        outbox = table_of(OutboxMessage)
        rows = await session.execute(
            select(outbox.c.message_id, outbox.c.routing_key, outbox.c.body, outbox.c.headers)
            .where(outbox.c.batch.in_(wanted))
            .order_by(outbox.c.id)
        )
        messages = [
            BusMessage(routing_key=r.routing_key, body=r.body, message_id=r.message_id, headers=r.headers)
            for r in rows
        ]
        if pending.direct is not None:  # committed while the gateway ran on RabbitMQ
            await pending.direct.publish_in(session, messages)
        pending.messages.extend(messages)


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
        direct = _same_database(self.bus, self.database)
        if direct is not None:
            return await self._move_once(direct)
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
