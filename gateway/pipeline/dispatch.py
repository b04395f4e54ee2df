"""Dispatch: post the canonical order, signed, to its destination's webhook — exactly once in effect.

The dispatch row is a state machine, PENDING → SENDING → SENT | FAILED | UNKNOWN, committed around the
HTTP call so that a crash mid-call is visible. Every try carries the same `Idempotency-Key`
(`<order id>:<version>`) and the same body, so a receiver that honours the key never applies an order
twice, whatever we had to resend. Short transient faults (connection errors, 502/503/504, 429) are retried
in place with tenacity; a longer outage is handed back to the bus (`Retry`) so no delivery is held for
minutes; a 4xx refusal parks the message (`Park`): sending it again would not help.

Two copies of one message can be handled at once (at-least-once delivery: a relay republishing after a
crash, a redelivery while the first handler still runs). The first to record SENT wins: a copy whose try
fails afterwards changes nothing (the row is locked and re-read before a failure is recorded), and a copy
that succeeds second finds the processed-message record and rolls back its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from gateway.bus.base import BusMessage, Park, Retry
from gateway.pipeline.consumer import FAILPOINT_ARMED, failpoint
from gateway.pipeline.messages import order_message
from gateway.pipeline.outbox import OutboxRelay, enqueue
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, Dispatch, OrderEvent, ProcessedMessage

CONSUMER = "dispatch"
TRANSIENT_STATUSES = {429, 502, 503, 504}


class TransientHTTP(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def sign(body: bytes, secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _transient(error: BaseException) -> bool:
    return isinstance(error, TransientHTTP | httpx.TransportError)


class Dispatcher:
    def __init__(
        self,
        database: Database,
        *,
        client: httpx.AsyncClient | None = None,
        relay: OutboxRelay | None = None,
        attempts_in_place: int = 3,
    ) -> None:
        self.database = database
        self.client = client or httpx.AsyncClient()
        self.relay = relay
        self.attempts_in_place = attempts_in_place

    async def handle(self, message: BusMessage) -> None:
        order_id = message.json()["order_id"]
        prepared = await self._prepare(message, order_id)
        if prepared is None:
            return
        dispatch_id, destination, body, key = prepared
        try:
            status = await self._post(destination, body, key)
        except (TransientHTTP, httpx.TransportError) as error:
            state = "UNKNOWN" if isinstance(error, httpx.TimeoutException) else "PENDING"
            if not await self._settle(dispatch_id, state, error=str(error) or type(error).__name__):
                return  # another copy of this message sent it meanwhile
            raise Retry(
                f"destination {destination.id} unavailable: {type(error).__name__}: {error}"
            ) from error
        if 200 <= status < 300:
            if FAILPOINT_ARMED:
                failpoint("after_post_before_commit", CONSUMER)
            await self._done(message, dispatch_id, order_id, status, destination.id)
            return
        if not await self._settle(dispatch_id, "FAILED", error=f"HTTP {status}", status=status):
            return  # another copy of this message sent it meanwhile
        raise Park(f"destination {destination.id} refused order {order_id} with HTTP {status}")

    async def _prepare(
        self, message: BusMessage, order_id: str
    ) -> tuple[int, Destination, bytes, str] | None:
        async with self.database.transaction() as session:
            if await session.get(ProcessedMessage, (CONSUMER, message.message_id)) is not None:
                return None
            order = await repo.get_order(session, order_id)
            if order is None:
                raise Park(f"order {order_id} does not exist")
            if order.destination_id is None:
                raise Park(f"order {order_id} has no destination; route it first")
            destination = await session.get(Destination, order.destination_id)
            if destination is None:
                raise Park(f"destination {order.destination_id} does not exist")
            dispatch = (
                await session.scalars(
                    select(Dispatch).where(Dispatch.order_id == order_id, Dispatch.version == 1)
                )
            ).first()
            if dispatch is None:
                dispatch = Dispatch(
                    order_id=order_id,
                    version=1,
                    destination_id=destination.id,
                    idempotency_key=f"{order_id}:1",
                    state="PENDING",
                    attempts=0,
                    created_at=repo.utcnow(),
                )
                session.add(dispatch)
            if dispatch.state == "SENT":
                return None
            if dispatch.state in ("SENDING", "UNKNOWN"):
                # A previous try died mid-call or timed out: the receiver may have it. Resending the same
                # body under the same key is the reconciliation a webhook receiver supports.
                dispatch.last_error = f"resent after an unsettled try ({dispatch.state})"
            dispatch.attempts += 1
            dispatch.state = "SENDING"
            await session.flush()
            payload: dict[str, Any] = {
                "order_id": order_id,
                "dispatch_version": dispatch.version,
                "partner": order.partner_id,
                "order": order.canonical,
            }
            body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
            session.expunge(destination)
            return dispatch.id, destination, body, dispatch.idempotency_key

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
                response = await self.client.post(
                    destination.url, content=body, headers=headers, timeout=float(destination.timeout_seconds)
                )
                if response.status_code in TRANSIENT_STATUSES:
                    raise TransientHTTP(response.status_code)
                return response.status_code
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

    async def _done(
        self, message: BusMessage, dispatch_id: int, order_id: str, status: int, destination: str
    ) -> None:
        try:
            await self._record_sent(message, dispatch_id, order_id, status, destination)
        except IntegrityError:
            # A concurrent copy of this message recorded it first: its effect stands, ours is void.
            async with self.database.session() as session:
                if await session.get(ProcessedMessage, (CONSUMER, message.message_id)) is None:
                    raise
            return
        if FAILPOINT_ARMED:
            failpoint("after_commit_before_ack", CONSUMER)
        if self.relay is not None:
            self.relay.wake()

    async def _record_sent(
        self, message: BusMessage, dispatch_id: int, order_id: str, status: int, destination: str
    ) -> None:
        async with self.database.transaction() as session:
            dispatch = await session.get(Dispatch, dispatch_id)
            order = await repo.get_order(session, order_id)
            assert dispatch is not None and order is not None
            dispatch.state = "SENT"
            dispatch.response_status = status
            dispatch.sent_at = repo.utcnow()
            order.status = "dispatched"
            order.events.append(
                OrderEvent(
                    status="dispatched", at=repo.utcnow(), detail=f"sent to {destination} (HTTP {status})"
                )
            )
            session.add(
                ProcessedMessage(consumer=CONSUMER, message_id=message.message_id, processed_at=repo.utcnow())
            )
            enqueue(
                session, [order_message("events", order_id, partner=order.partner_id, channel="dispatched")]
            )
