"""Choosing a bus, and the outcome rules both implementations share.

`open_bus` returns a `RabbitBus` when `ORDERGATE_BROKER_URL` is set, otherwise an `EmbeddedBus` persisted
in the gateway's own database. Neither is connected yet: call `await bus.connect()`.

`plan_failure` turns a handler's exception into what happens to the message (retry later, or park now).
It lives here rather than in each bus so both keep exactly the same semantics; it belongs in `base.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gateway.bus.base import (
    HEADER_PARKED_STAGE,
    HEADER_REASON,
    PARKED_QUEUE,
    QUEUES,
    Attempt,
    Bus,
    BusMessage,
    BusSettings,
    Park,
    should_park_now,
)
from gateway.core.errors import RoutingError

if TYPE_CHECKING:
    from gateway.settings import Settings
    from gateway.storage.database import Database

ROUTABLE_QUEUES = frozenset((*QUEUES, PARKED_QUEUE))


@dataclass(frozen=True, slots=True)
class FailurePlan:
    """What to do with a message whose handler failed: publish `message` (the retried or the parked
    copy) `delay` seconds from now, then settle the original."""

    park: bool
    message: BusMessage
    delay: float


def check_routable(messages: Iterable[BusMessage]) -> None:
    """Refuse a batch up front if any routing key names no queue: nothing is sent."""
    for message in messages:
        if message.queue not in ROUTABLE_QUEUES:
            raise RoutingError(
                f"routing key {message.routing_key!r} names no queue; "
                f"the first part must be one of {', '.join(sorted(ROUTABLE_QUEUES))}",
                code="UNROUTABLE",
            )


def check_queue(queue: str) -> None:
    if queue not in ROUTABLE_QUEUES:
        raise RoutingError(f"no queue {queue!r}; known: {', '.join(sorted(ROUTABLE_QUEUES))}")


def parked_routing_key(routing_key: str) -> str:
    """A parked message keeps its original routing key after `parked.`, so a replay can strip it."""
    prefix = PARKED_QUEUE + "."
    return routing_key if routing_key.startswith(prefix) else prefix + routing_key


def describe(error: BaseException) -> str:
    if isinstance(error, Park):
        return str(error) or "parked by the handler"
    return f"{type(error).__name__}: {error}"[:1000]


def parked_copy(
    message: BusMessage, stage: str, reason: str, history: tuple[Attempt, ...] | None = None
) -> BusMessage:
    """The message as it goes to the parking queue: `parked.<routing key>`, reason and stage in its
    headers, the same id, body and attempt number, and its history (plus the last failure, if given)."""
    return replace(
        message,
        routing_key=parked_routing_key(message.routing_key),
        headers={**message.headers, HEADER_REASON: reason, HEADER_PARKED_STAGE: stage},
        history=message.history if history is None else history,
    )


def plan_failure(message: BusMessage, queue: str, error: BaseException, settings: BusSettings) -> FailurePlan:
    """The contract's outcome rules for a failed handler.

    - `Park` or a non-retryable `GatewayError` → parked now;
    - anything else → retried after `settings.delay_for(attempt + 1)`, with the failure in its history,
      unless this was attempt `max_attempts`: then parked;
    - a failure while handling the `parked` queue itself is always retried (at the longest delay once
      the tiers run out): there is no further place to park it, and parking it again would loop.
    """
    failed = message.failed(queue, error)
    if queue != PARKED_QUEUE:
        if should_park_now(error):
            reason = describe(error)
        elif message.attempt >= settings.max_attempts:
            reason = f"gave up after {message.attempt} attempts; last error {describe(error)}"
        else:
            reason = ""
        if reason:
            return FailurePlan(
                park=True, message=parked_copy(message, queue, reason, failed.history), delay=0.0
            )
    return FailurePlan(park=False, message=failed, delay=settings.delay_for(failed.attempt))


def open_bus(settings: Settings, database: Database, *, namespace: str = "og") -> Bus:
    """RabbitMQ when `settings.broker_url` is set, else the embedded bus on `database`. Not connected."""
    if settings.broker_url:
        from gateway.bus.rabbitmq import RabbitBus

        return RabbitBus(settings.broker_url, namespace=namespace, settings=settings.bus_settings())
    from gateway.bus.embedded import EmbeddedBus

    return EmbeddedBus(database, settings=settings.bus_settings())


__all__ = [
    "ROUTABLE_QUEUES",
    "FailurePlan",
    "check_queue",
    "check_routable",
    "open_bus",
    "parked_copy",
    "parked_routing_key",
    "plan_failure",
]
