"""The bus contract every implementation keeps, and the message it carries.

Work flows through stage queues: a message published with routing key `<stage>.<partner>.<channel>` is
delivered to the consumers of queue `<stage>` (one of `STAGES`, or `events`/`outbound`). Delivery is at
least once; consumers are made idempotent by the gateway (processed message ids), not by the bus.

What a handler's outcome means:
- it returns → the message is acknowledged and gone;
- it raises `Retry`, or a `GatewayError` whose `retryable` is true, or any other exception → the message
  comes back after the next delay in `BusSettings.retry_delays` with `attempt + 1` and the failure added
  to its history; once `max_attempts` is reached it is parked instead;
- it raises `Park`, or a `GatewayError` whose `retryable` is false → it is parked at once.

A parked message goes to queue `parked` under routing key `parked.<original key>` (a replay strips the
prefix), with its reason and the stage that gave up in headers `x-og-reason` and `x-og-parked-stage`, and
its attempt number and history as fields; the gateway consumes `parked` to record it for operations. A
failing `parked` handler is retried at the longest delay, never parked again. `close()` drains with a
grace period, then cancels: unsettled messages are redelivered with their attempt number unchanged.

`publish` returns only once the messages are durable (publisher confirm, or committed row); if it
raises (`RoutingError` for an unknown queue or a returned message, `TransportError` for a broker nack,
timeout or lost connection, `StorageError` for the embedded database), none may be assumed sent.
Headers must be JSON-compatible.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gateway.core.errors import GatewayError
from gateway.storage.ids import new_id

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

STAGES = ("intake", "translate", "review", "route", "dispatch")
QUEUES = (*STAGES, "events", "outbound")
PARKED_QUEUE = "parked"

HEADER_ATTEMPT = "x-og-attempt"
HEADER_HISTORY = "x-og-history"
HEADER_REASON = "x-og-reason"
HEADER_PARKED_STAGE = "x-og-parked-stage"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed try: when, in which queue, and why."""

    at: str
    queue: str
    error: str

    @classmethod
    def now(cls, queue: str, error: BaseException | str) -> Attempt:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(at=datetime.now(UTC).isoformat(), queue=queue, error=text[:1000])


@dataclass(frozen=True, slots=True)
class BusMessage:
    routing_key: str
    body: bytes
    message_id: str = field(default_factory=new_id)
    headers: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    history: tuple[Attempt, ...] = ()

    @property
    def queue(self) -> str:
        return self.routing_key.split(".", 1)[0]

    def json(self) -> Any:
        return json.loads(self.body)

    def failed(self, queue: str, error: BaseException | str) -> BusMessage:
        """The same message, one attempt further, with this failure added to its history."""
        return replace(self, attempt=self.attempt + 1, history=(*self.history, Attempt.now(queue, error)))


def route(stage: str, partner: str | None = None, channel: str | None = None) -> str:
    """Routing key for a stage: `<stage>.<partner>.<channel>`, with `_` for an unknown part."""
    return f"{stage}.{partner or '_'}.{channel or '_'}"


def encode_history(history: Sequence[Attempt]) -> str:
    return json.dumps([{"at": a.at, "queue": a.queue, "error": a.error} for a in history])


def decode_history(text: str | bytes | None) -> tuple[Attempt, ...]:
    if not text:
        return ()
    return tuple(Attempt(**item) for item in json.loads(text))


class Retry(Exception):
    """Try this message again later (the bus picks the delay)."""


class Park(Exception):
    """Give up on this message now: it goes to the parking queue with this reason."""


def should_park_now(error: BaseException) -> bool:
    return isinstance(error, Park) or (isinstance(error, GatewayError) and not error.retryable)


@dataclass(frozen=True, slots=True)
class BusSettings:
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
    max_attempts: int = 5
    prefetch: int = 50

    def delay_for(self, attempt: int) -> float:
        """Delay before attempt number `attempt` (2 = first retry), growing, capped at the last tier."""
        index = min(max(attempt - 2, 0), len(self.retry_delays) - 1)
        return self.retry_delays[index]


Handler = Callable[[BusMessage], Awaitable[None]]


class Subscription(Protocol):
    async def stop(self) -> None:
        """Stop taking new messages, let in-flight handlers finish and settle them, then return."""
        ...


class Bus(Protocol):
    settings: BusSettings

    async def connect(self) -> None:
        """Connect and declare the topology (idempotent)."""
        ...

    async def close(self) -> None: ...

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        """Durably enqueue every message, or raise. Pipelines confirms: one round trip per batch."""
        ...

    async def subscribe(self, queue: str, handler: Handler, *, prefetch: int | None = None) -> Subscription:
        """Deliver messages of `queue` to `handler`, up to `prefetch` in flight at once."""
        ...

    async def depth(self, queue: str) -> int:
        """Messages ready in `queue` (not counting ones waiting for a retry delay)."""
        ...

    async def ping(self) -> None:
        """Raise if the bus cannot be reached."""
        ...


@runtime_checkable
class TransactionalBus(Protocol):
    """A bus kept in the gateway's own database (the embedded bus) can enqueue inside a caller's
    transaction; the outbox relay then moves rows from the outbox to the queues atomically."""

    database_url: str

    async def publish_in(self, session: AsyncSession, messages: Sequence[BusMessage]) -> None: ...

    def wake(self, messages: Sequence[BusMessage]) -> None: ...
