"""Dispatch: post the canonical order, signed, to its destination's webhook — exactly once in effect.

The dispatch row is a state machine, PENDING → SENDING → SENT | FAILED | UNKNOWN, committed around the
HTTP call so that a crash mid-call is visible. Every try carries the same `Idempotency-Key`
(`<order id>:<version>`) and the same body, so a receiver that honours the key never applies an order
twice, whatever we had to resend. Short transient faults (connection errors, 502/503/504, 429) are retried
in place with tenacity; a longer outage is handed back to the bus (`Retry`) so no delivery is held for
minutes; a 4xx refusal parks the message (`Park`): sending it again would not help.

Two copies of one message can be handled at once (at-least-once delivery: a batch published again after
a crash, a redelivery while the first handler still runs). The first to record SENT wins: a copy whose try
fails afterwards changes nothing (the row is locked and re-read before a failure is recorded), and a copy
that succeeds second finds the processed-message record and rolls back its own.

Messages in flight together are prepared in one transaction and recorded SENT in one transaction
(`batching.Batcher`), each posted on its own in between; a batch whose recording fails as a whole (a copy
recorded concurrently) is recorded again one message per transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from gateway.bus.base import BusMessage, Park, Retry
from gateway.pipeline.batching import Batcher
from gateway.pipeline.consumer import already_processed, body_field, record_processed
from gateway.pipeline.failpoints import FAILPOINT_ARMED, failpoint
from gateway.pipeline.http import AiohttpPoster, DeliveryFailed, HttpxPoster, Poster
from gateway.pipeline.messages import order_message
from gateway.pipeline.outbox import NotPublished, Publisher, enqueue
from gateway.pipeline.stages import add_events
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, Dispatch, OrderRecord, ProcessedMessage
from gateway.storage.repository import table_of

CONSUMER = "dispatch"
TRANSIENT_STATUSES = {429, 502, 503, 504}

# Built once (see stages.py): building costs about as much CPU as executing.
_ORDERS, _DISPATCHES = table_of(OrderRecord), table_of(Dispatch)
_ORDERS_TO_SEND = select(
    _ORDERS.c.id, _ORDERS.c.partner_id, _ORDERS.c.destination_id, _ORDERS.c.canonical
).where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
_DESTINATIONS = select(Destination).where(Destination.id.in_(bindparam("ids", expanding=True)))
_FIRST_DISPATCHES = (
    select(_DISPATCHES.c.id, _DISPATCHES.c.order_id, _DISPATCHES.c.state, _DISPATCHES.c.idempotency_key)
    .where(_DISPATCHES.c.order_id.in_(bindparam("ids", expanding=True)), _DISPATCHES.c.version == 1)
    .with_for_update()
)
_SEND_AGAIN = (
    update(_DISPATCHES)
    .where(_DISPATCHES.c.id == bindparam("dispatch_id"))
    .values(state="SENDING", attempts=_DISPATCHES.c.attempts + 1, last_error=bindparam("note"))
)
_NEW_DISPATCHES = insert(_DISPATCHES).returning(
    _DISPATCHES.c.id, _DISPATCHES.c.order_id, sort_by_parameter_order=True
)
_SENT = (
    update(_DISPATCHES)
    .where(_DISPATCHES.c.id == bindparam("dispatch_id"))
    .values(state="SENT", response_status=bindparam("status"), sent_at=bindparam("sent_at"))
)
_DISPATCHED = (
    update(_ORDERS).where(_ORDERS.c.id.in_(bindparam("ids", expanding=True))).values(status="dispatched")
)


class TransientHTTP(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def sign(body: bytes, secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _transient(error: BaseException) -> bool:
    return isinstance(error, TransientHTTP | DeliveryFailed)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A dispatch marked SENDING, with everything its HTTP call needs."""

    dispatch_id: int
    order_id: str
    partner_id: str | None
    destination: Destination
    body: bytes
    key: str


@dataclass(frozen=True, slots=True)
class Sent:
    message: BusMessage
    prepared: Prepared
    status: int


class Dispatcher:
    def __init__(
        self,
        database: Database,
        *,
        client: httpx.AsyncClient | Poster | None = None,
        publisher: Publisher | None = None,
        attempts_in_place: int = 3,
        max_batch: int = 100,
    ) -> None:
        self.database = database
        self.client: Poster = (
            HttpxPoster(client) if isinstance(client, httpx.AsyncClient) else client or AiohttpPoster()
        )
        self.publisher = publisher
        self.attempts_in_place = attempts_in_place
        self._preparing: Batcher[BusMessage, Prepared | None] = Batcher(self._prepare, max_size=max_batch)
        self._recording: Batcher[Sent, None] = Batcher(self._record, max_size=max_batch)

    def _transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A transaction whose caused messages (and a redelivery's resends) are published right after
        its commit; without a publisher (a dispatcher on its own) they are left to the outbox relay."""
        if self.publisher is not None:
            return self.publisher.transaction(CONSUMER)
        return self.database.transaction()

    async def handle(self, message: BusMessage) -> None:
        prepared = await self._preparing.submit(message)
        if prepared is None:
            return
        destination = prepared.destination
        try:
            status = await self._post(destination, prepared.body, prepared.key)
        except (TransientHTTP, DeliveryFailed) as error:
            state = "UNKNOWN" if isinstance(error, DeliveryFailed) and error.timed_out else "PENDING"
            if not await self._settle(prepared.dispatch_id, state, error=str(error) or type(error).__name__):
                return  # another copy of this message sent it meanwhile
            raise Retry(
                f"destination {destination.id} unavailable: {type(error).__name__}: {error}"
            ) from error
        if 200 <= status < 300:
            if FAILPOINT_ARMED:
                failpoint("after_post_before_commit", CONSUMER)
            await self._recording.submit(Sent(message, prepared, status))
            if FAILPOINT_ARMED:
                failpoint("after_commit_before_ack", CONSUMER)
            return
        if not await self._settle(prepared.dispatch_id, "FAILED", error=f"HTTP {status}", status=status):
            return  # another copy of this message sent it meanwhile
        raise Park(f"destination {destination.id} refused order {prepared.order_id} with HTTP {status}")

    async def _prepare(self, messages: list[BusMessage]) -> list[Prepared | BaseException | None]:
        """Mark the batch's dispatches SENDING (creating them on first try), in one transaction."""
        outcomes: dict[str, Prepared | BaseException | None] = {}
        wanted: dict[str, str] = {}
        for message in messages:
            try:
                wanted[message.message_id] = body_field(message, "order_id")
            except Park as error:
                outcomes[message.message_id] = error
        async with self._transaction() as session:
            done = await already_processed(session, CONSUMER, wanted)
            order_ids = {order_id for message_id, order_id in wanted.items() if message_id not in done}
            orders = {row.id: row for row in await session.execute(_ORDERS_TO_SEND, {"ids": list(order_ids)})}
            wanted_destinations = list({o.destination_id for o in orders.values() if o.destination_id})
            destinations = {
                d.id: d for d in await session.scalars(_DESTINATIONS, {"ids": wanted_destinations})
            }
            dispatches = {
                row.order_id: row for row in await session.execute(_FIRST_DISPATCHES, {"ids": list(orders)})
            }
            claimed: dict[str, str] = {}  # order id → the message that sends it in this batch
            for message_id, order_id in wanted.items():
                order = orders.get(order_id)
                if message_id in done or order_id in claimed:
                    outcomes[message_id] = None
                elif order is None:
                    outcomes[message_id] = Park(f"order {order_id} does not exist")
                elif order.destination_id is None:
                    outcomes[message_id] = Park(f"order {order_id} has no destination; route it first")
                elif order.destination_id not in destinations:
                    outcomes[message_id] = Park(f"destination {order.destination_id} does not exist")
                elif order_id in dispatches and dispatches[order_id].state == "SENT":
                    outcomes[message_id] = None
                else:
                    claimed[order_id] = message_id
            ids = await self._mark_sending(session, claimed, orders, dispatches)
            for order_id, message_id in claimed.items():
                order = orders[order_id]
                payload: dict[str, Any] = {
                    "order_id": order_id,
                    "dispatch_version": 1,
                    "partner": order.partner_id,
                    "order": order.canonical,
                }
                outcomes[message_id] = Prepared(
                    dispatch_id=ids[order_id],
                    order_id=order_id,
                    partner_id=order.partner_id,
                    destination=destinations[order.destination_id],
                    body=json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(),
                    key=f"{order_id}:1",
                )
            session.expunge_all()
        return [outcomes[m.message_id] for m in messages]

    @staticmethod
    async def _mark_sending(
        session: Any, claimed: dict[str, str], orders: dict[str, Any], dispatches: dict[str, Any]
    ) -> dict[str, int]:
        """SENDING for every claimed order: a new dispatch row, or one more try of an existing row (a
        previous try that died mid-call or timed out may have reached the receiver: resending the same
        body under the same key is the reconciliation a webhook receiver supports)."""
        ids = {order_id: dispatches[order_id].id for order_id in claimed if order_id in dispatches}
        if ids:
            await session.execute(
                _SEND_AGAIN,
                [
                    {
                        "dispatch_id": ids[order_id],
                        "note": f"resent after an unsettled try ({dispatches[order_id].state})"
                        if dispatches[order_id].state in ("SENDING", "UNKNOWN")
                        else None,
                    }
                    for order_id in ids
                ],
            )
        new = [order_id for order_id in claimed if order_id not in dispatches]
        if new:
            now = repo.utcnow()
            created = await session.execute(
                _NEW_DISPATCHES,
                [
                    {
                        "order_id": order_id,
                        "version": 1,
                        "destination_id": orders[order_id].destination_id,
                        "idempotency_key": f"{order_id}:1",
                        "state": "SENDING",
                        "attempts": 1,
                        "created_at": now,
                    }
                    for order_id in new
                ],
            )
            ids.update({row.order_id: row.id for row in created})
        return ids

    async def _post(self, destination: Destination, body: bytes, key: str) -> int:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Ordergate-Timestamp": timestamp,
        }
        secret = os.environ.get(destination.secret_env or "", "") if destination.secret_env else ""
        if secret:
            headers["X-Ordergate-Signature"] = sign(body, secret, timestamp)
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts_in_place),
            wait=wait_random_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception(_transient),
            reraise=True,
        ):
            with attempt:
                status = await self.client.post(
                    destination.url, body, headers, timeout=float(destination.timeout_seconds)
                )
                if status in TRANSIENT_STATUSES:
                    raise TransientHTTP(status)
                return status
        raise AssertionError("unreachable")  # pragma: no cover

    async def _settle(self, dispatch_id: int, state: str, *, error: str, status: int | None = None) -> bool:
        """Record a try that did not succeed. False, changing nothing, if the dispatch is SENT by now: a
        concurrent copy of the message succeeded, and its outcome stands."""
        async with self.database.transaction() as session:
            dispatch = await session.get(Dispatch, dispatch_id, with_for_update=True)
            assert dispatch is not None
            if dispatch.state == "SENT":
                return False
            dispatch.state = state
            dispatch.last_error = error[:1000]
            dispatch.response_status = status
        return True

    async def _record(self, sent: list[Sent]) -> list[BaseException | None]:
        if len(sent) > 1:
            try:
                await self._record_sent(sent)
                return [None] * len(sent)
            except NotPublished as error:
                return [error] * len(sent)  # recorded: their redelivery publishes the batch again
            except Exception:
                pass  # one of them was recorded by a concurrent copy (or worse): one by one
        return [await self._record_one(item) for item in sent]

    async def _record_one(self, item: Sent) -> BaseException | None:
        try:
            await self._record_sent([item])
        except NotPublished as error:
            return error
        except IntegrityError as error:
            # A concurrent copy of this message recorded it first: its effect stands, ours is void.
            async with self.database.session() as session:
                if await session.get(ProcessedMessage, (CONSUMER, item.message.message_id)) is None:
                    return error
        except Exception as error:
            return error
        return None

    async def _record_sent(self, sent: Sequence[Sent]) -> None:
        now = repo.utcnow()
        async with self._transaction() as session:
            await session.execute(
                _SENT,
                [{"dispatch_id": s.prepared.dispatch_id, "status": s.status, "sent_at": now} for s in sent],
            )
            await session.execute(_DISPATCHED, {"ids": list({s.prepared.order_id for s in sent})})
            await add_events(
                session,
                [
                    (
                        s.prepared.order_id,
                        "dispatched",
                        f"sent to {s.prepared.destination.id} (HTTP {s.status})",
                    )
                    for s in sent
                ],
            )
            await record_processed(session, CONSUMER, [s.message for s in sent])
            await enqueue(
                session,
                [
                    order_message(
                        "events", s.prepared.order_id, partner=s.prepared.partner_id, channel="dispatched"
                    )
                    for s in sent
                ],
            )
