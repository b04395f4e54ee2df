"""The embedded bus: queues as rows in the gateway's own database (SQLite or PostgreSQL).

Nothing lives only in memory: a published message is a committed row, a delivered one is a row with a
lease, and a killed gateway loses nothing — its leases run out and the rows are delivered again.

- publish: insert every message in one transaction (the routing key's first part names the queue);
- consume: one poll loop per subscription claims up to `prefetch` ready rows — PostgreSQL with
  `FOR UPDATE SKIP LOCKED`, SQLite with one `UPDATE … RETURNING` statement (SQLite has a single writer, so
  the statement is the lock) — and runs the handlers concurrently;
- settle: ack deletes the row, retry moves `available_at` forward with `attempt + 1` and the history,
  park moves the row to queue `parked` with reason, stage and history in its headers. Settlements and the
  next claim share one transaction per loop turn, so a busy queue costs few commits;
- leases: a claim holds rows for `lease_seconds`; the loop renews the leases of running handlers, and a
  settlement only applies while the claim's `lease_token` still holds, so a consumer that lost its lease
  (paused for too long) cannot delete a row another consumer now owns. A row claimed more than
  `delivery_limit` times without being settled is parked, like RabbitMQ's `x-delivery-limit`.

Publishing in this process wakes its local subscriptions at once; other processes find new rows at the
next poll (`poll_interval`). Times are wall-clock epoch seconds: processes sharing a PostgreSQL database
need synchronised clocks (NTP), and a lease should be far longer than any expected skew.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway.bus.base import (
    PARKED_QUEUE,
    BusMessage,
    BusSettings,
    Handler,
    decode_history,
    encode_history,
)
from gateway.bus.embedded_schema import QueuedMessage
from gateway.bus.factory import check_queue, check_routable, parked_copy, plan_failure
from gateway.core.errors import ConfigError, StorageError
from gateway.storage.database import Database

log = logging.getLogger(__name__)

TABLE: Table = QueuedMessage.__table__  # type: ignore[assignment]
C = TABLE.c

OutcomeKind = Literal["ack", "retry", "park", "release"]


@dataclass(eq=False, slots=True)
class _Delivery:
    """A claimed row and, once its handler is done, what to do with it."""

    row_id: int
    token: str
    message: BusMessage
    outcome: OutcomeKind | None = None
    settled_as: BusMessage | None = None  # the retried or parked message
    available_at: float = 0.0
    task: asyncio.Task[None] | None = None


def _message(row: Any) -> BusMessage:
    return BusMessage(
        routing_key=row.routing_key,
        body=bytes(row.body),
        message_id=row.message_id,
        headers=dict(row.headers or {}),
        attempt=row.attempt,
        history=decode_history(row.history),
    )


class EmbeddedSubscription:
    """One poll loop: claims, runs handlers, settles. `stop()` drains it."""

    def __init__(self, bus: EmbeddedBus, queue: str, handler: Handler, prefetch: int) -> None:
        self.queue = queue
        self.prefetch = prefetch
        self._bus = bus
        self._handler = handler
        self._inflight: dict[int, _Delivery] = {}  # claimed and not yet settled (running or done)
        self._done: list[_Delivery] = []  # handler finished, settlement not yet committed
        self._wake = asyncio.Event()
        self._stopping = False
        self._next_renew = 0.0
        self._task = asyncio.create_task(self._run(), name=f"embedded-bus:{queue}")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming, let the running handlers finish, settle them, return."""
        await self._shutdown(None)

    async def _shutdown(self, grace: float | None) -> None:
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            # Past the grace period: cancel the handlers; their rows are released (ready again at once).
            for delivery in list(self._inflight.values()):
                if delivery.task is not None and not delivery.task.done():
                    delivery.task.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5.0)
            except TimeoutError:
                log.error("embedded bus: %s loop did not finish; its leases will expire", self.queue)
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _run(self) -> None:
        try:
            await self._loop()
        finally:
            self._bus._subscriptions.discard(self)

    async def _loop(self) -> None:
        failures = 0
        while True:
            if self._stopping and not self._inflight:
                return
            free = 0 if self._stopping else self.prefetch - len(self._inflight)
            self._wake.clear()
            try:
                claimed, settled = await self._bus._cycle(self, free)
                failures = 0
            except Exception:
                failures += 1
                if failures == 1 or failures % 50 == 0:
                    log.exception("embedded bus: %s poll failed (%d in a row)", self.queue, failures)
                await asyncio.sleep(min(0.05 * 2**failures, 5.0))
                continue
            for delivery in claimed:
                self._inflight[delivery.row_id] = delivery
                if delivery.outcome is None:
                    delivery.task = asyncio.create_task(self._handle(delivery))
                else:  # parked at claim time (delivery limit)
                    self._done.append(delivery)
            if self._done or settled or (free and len(claimed) == free):
                # settle now / slots freed up (or, stopping, maybe the last one: look again before
                # waiting, else a stop waits a third of a lease for a wake-up nobody sends) / there may
                # be more ready rows
                continue
            full = len(self._inflight) >= self.prefetch or self._stopping
            timeout = self._bus.lease_seconds / 3 if full else self._bus.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _handle(self, delivery: _Delivery) -> None:
        message = delivery.message
        outcome: OutcomeKind = "release"  # cancelled (forced close) or a BaseException: delivered again
        try:
            await self._handler(message)
            outcome = "ack"
        except Exception as error:
            try:
                plan = plan_failure(message, self.queue, error, self._bus.settings)
            except Exception:
                log.exception("embedded bus: cannot plan the failure of %s", message.message_id)
            else:
                outcome = "park" if plan.park else "retry"
                delivery.settled_as = plan.message
                delivery.available_at = time.time() + plan.delay
        finally:
            delivery.outcome = outcome
            self._complete(delivery)

    def _complete(self, delivery: _Delivery) -> None:
        self._done.append(delivery)
        self._wake.set()


class EmbeddedBus:
    """The `Bus` contract on the gateway's database. `database` must be migrated (table `bus_messages`)."""

    def __init__(
        self,
        database: Database,
        *,
        settings: BusSettings = BusSettings(),
        poll_interval: float = 0.05,
        lease_seconds: float = 60.0,
        delivery_limit: int = 20,
        close_timeout: float = 30.0,
    ) -> None:
        self.database = database
        self.database_url = database.url
        self.settings = settings
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.delivery_limit = delivery_limit
        self.close_timeout = close_timeout
        self._subscriptions: set[EmbeddedSubscription] = set()
        self._postgres = database.engine.dialect.name == "postgresql"

    async def connect(self) -> None:
        """Check the table is there (the schema is Alembic's job: `ordergate migrate`)."""
        try:
            async with self.database.session() as session:
                await session.execute(select(C.id).limit(1))
        except SQLAlchemyError as exc:
            raise ConfigError(
                "the embedded bus needs table bus_messages: migrate the database (`ordergate migrate`)"
            ) from exc

    async def close(self) -> None:
        """Stop every subscription; handlers still running after `close_timeout` are cancelled and
        their messages released for redelivery. The database itself stays open (its owner closes it)."""
        await asyncio.gather(*(s._shutdown(self.close_timeout) for s in list(self._subscriptions)))

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        if not messages:
            return
        try:
            async with self.database.transaction() as session:
                await self.publish_in(session, messages)
        except SQLAlchemyError as exc:
            raise StorageError(f"could not enqueue {len(messages)} message(s): {exc}") from exc
        self.wake(messages)

    async def publish_in(self, session: AsyncSession, messages: Sequence[BusMessage]) -> None:
        """Enqueue in the caller's transaction: the messages exist if and only if it commits. The
        outbox relay uses this, so that taking rows from the outbox and enqueueing them is one atomic
        step — two processes relaying from one SQLite file can then never both publish a row (SQLite
        has no SKIP LOCKED). Call `wake(messages)` after the commit."""
        if not messages:
            return
        check_routable(messages)
        now = time.time()
        created = datetime.now(UTC)
        await session.execute(
            insert(TABLE),
            [
                {
                    "message_id": m.message_id,
                    "queue": m.queue,
                    "routing_key": m.routing_key,
                    "body": m.body,
                    "headers": dict(m.headers),
                    "attempt": m.attempt,
                    "history": encode_history(m.history),
                    "available_at": now,
                    "lease_until": None,
                    "lease_token": None,
                    "deliveries": 0,
                    "created_at": created,
                }
                for m in messages
            ],
        )

    def wake(self, messages: Sequence[BusMessage]) -> None:
        """Tell this process's subscriptions of these queues that messages are ready."""
        queues = {m.queue for m in messages}
        for subscription in self._subscriptions:
            if subscription.queue in queues:
                subscription.wake()

    async def subscribe(
        self, queue: str, handler: Handler, *, prefetch: int | None = None
    ) -> EmbeddedSubscription:
        check_queue(queue)
        count = prefetch or self.settings.prefetch
        if count < 1:
            raise ValueError("prefetch must be at least 1")
        subscription = EmbeddedSubscription(self, queue, handler, count)
        self._subscriptions.add(subscription)
        return subscription

    async def depth(self, queue: str) -> int:
        check_queue(queue)
        now = time.time()
        async with self.database.session() as session:
            count = await session.scalar(select(func.count()).select_from(TABLE).where(*_ready(queue, now)))
        return int(count or 0)

    async def ping(self) -> None:
        await self.database.ping()

    # -- one loop turn ------------------------------------------------------------------------------

    async def _cycle(self, sub: EmbeddedSubscription, free: int) -> tuple[list[_Delivery], int]:
        """Settle finished deliveries, renew leases when due, claim up to `free` rows: one transaction.
        Returns the claimed deliveries and how many were settled."""
        done, sub._done = sub._done, []
        now = time.time()
        running = [d for d in sub._inflight.values() if d.outcome is None]
        renew = bool(running) and now >= sub._next_renew
        if not done and not renew and (free <= 0 or not await self._any_ready(sub.queue, now)):
            return [], 0
        try:
            async with self.database.transaction() as session:
                connection = await session.connection()
                await self._settle(connection, done, now)
                if renew:
                    await connection.execute(
                        update(TABLE)
                        .where(tuple_(C.id, C.lease_token).in_([(d.row_id, d.token) for d in running]))
                        .values(lease_until=now + self.lease_seconds)
                    )
                claimed = await self._claim(connection, sub.queue, free, now) if free > 0 else []
        except BaseException:
            sub._done[:0] = done  # settle them next time
            raise
        if renew:
            sub._next_renew = now + self.lease_seconds / 3
        for delivery in done:
            sub._inflight.pop(delivery.row_id, None)
        if any(d.outcome == "park" for d in done):
            for subscription in self._subscriptions:
                if subscription.queue == PARKED_QUEUE:
                    subscription.wake()
        if claimed and not running:
            sub._next_renew = now + self.lease_seconds / 3
        return claimed, len(done)

    async def _any_ready(self, queue: str, now: float) -> bool:
        async with self.database.session() as session:
            return (await session.scalar(select(C.id).where(*_ready(queue, now)).limit(1))) is not None

    async def _claim(
        self, connection: AsyncConnection, queue: str, limit: int, now: float
    ) -> list[_Delivery]:
        ready = select(C.id).where(*_ready(queue, now)).order_by(C.available_at, C.id).limit(limit)
        if self._postgres:
            ready = ready.with_for_update(skip_locked=True)
        token = secrets.token_hex(16)
        result = await connection.execute(
            update(TABLE)
            .where(C.id.in_(ready.scalar_subquery()))
            .values(lease_until=now + self.lease_seconds, lease_token=token, deliveries=C.deliveries + 1)
            .returning(
                C.id, C.message_id, C.routing_key, C.body, C.headers, C.attempt, C.history, C.deliveries
            )
        )
        rows = sorted(result.all(), key=lambda row: row.id)
        deliveries = []
        for row in rows:
            delivery = _Delivery(row_id=row.id, token=token, message=_message(row))
            if row.deliveries > self.delivery_limit and queue != PARKED_QUEUE:
                reason = (
                    f"delivery limit: claimed {row.deliveries} times without being settled "
                    "(its consumer crashed or lost the lease each time)"
                )
                delivery.outcome = "park"
                delivery.settled_as = parked_copy(delivery.message, queue, reason)
            deliveries.append(delivery)
        return deliveries

    async def _settle(self, connection: AsyncConnection, done: list[_Delivery], now: float) -> None:
        if not done:
            return
        acks = [(d.row_id, d.token) for d in done if d.outcome == "ack"]
        if acks:
            await connection.execute(delete(TABLE).where(tuple_(C.id, C.lease_token).in_(acks)))
        released = [(d.row_id, d.token) for d in done if d.outcome == "release"]
        if released:
            await connection.execute(
                update(TABLE)
                .where(tuple_(C.id, C.lease_token).in_(released))
                .values(lease_until=None, lease_token=None)
            )
        moved = [
            {
                "b_id": d.row_id,
                "b_token": d.token,
                "b_queue": d.settled_as.queue,
                "b_routing_key": d.settled_as.routing_key,
                "b_headers": dict(d.settled_as.headers),
                "b_attempt": d.settled_as.attempt,
                "b_history": encode_history(d.settled_as.history),
                "b_available_at": d.available_at if d.outcome == "retry" else now,
            }
            for d in done
            if d.outcome in ("retry", "park") and d.settled_as is not None
        ]
        if moved:
            await connection.execute(
                update(TABLE)
                .where(C.id == bindparam("b_id"), C.lease_token == bindparam("b_token"))
                .values(
                    queue=bindparam("b_queue"),
                    routing_key=bindparam("b_routing_key"),
                    headers=bindparam("b_headers"),
                    attempt=bindparam("b_attempt"),
                    history=bindparam("b_history"),
                    available_at=bindparam("b_available_at"),
                    lease_until=None,
                    lease_token=None,
                    deliveries=0,
                ),
                moved,
            )


def _ready(queue: str, now: float) -> tuple[Any, ...]:
    return (
        C.queue == queue,
        C.available_at <= now,
        or_(C.lease_until.is_(None), C.lease_until <= now),
    )


__all__ = ["EmbeddedBus", "EmbeddedSubscription"]
