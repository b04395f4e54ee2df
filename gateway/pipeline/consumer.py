"""Idempotent consumers: the effect of a message, the record that it was processed and the messages it
causes commit in one transaction, then the bus acknowledges. A redelivery finds the record and does
nothing (RELIABILITY rule 3).

Failpoints (crash tests, RELIABILITY rule 8): `ORDERGATE_FAILPOINT=NAME[:STAGE][@N]` makes the process
`os._exit(137)` — no cleanup, no ack, like `kill -9` — the N-th time (default the first) it reaches point
NAME in consumer STAGE (default any). Points:

- `after_commit_before_ack`: a stage's transaction (effect, processed-message row, outbox rows) has
  committed and the handler has not returned, so the bus has not acknowledged the message (here for
  intake, translate, review and route; in `dispatch.py` for dispatch);
- `after_post_before_commit` (dispatch only): the destination answered 2xx and the dispatch is not yet
  recorded as SENT.

Read once at import; unset, a failpoint costs one comparison with None.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage, Handler
from gateway.pipeline.outbox import OutboxRelay, enqueue
from gateway.storage.database import Database
from gateway.storage.models import ProcessedMessage
from gateway.storage.repository import utcnow

StageHandler = Callable[[AsyncSession, BusMessage], Awaitable[Sequence[BusMessage]]]
"""A stage's work inside the consumer's transaction; returns the messages it causes."""

FAILPOINT_ENV = "ORDERGATE_FAILPOINT"
FAILPOINT_EXIT_CODE = 137


def _parse_failpoint(value: str | None) -> tuple[str, str | None, int] | None:
    """`NAME[:STAGE][@N]` → (name, stage or None for any, n)."""
    if not value or not value.strip():
        return None
    spec, _, count = value.strip().partition("@")
    name, _, stage = spec.partition(":")
    if not name or (count and not count.isdigit()):
        raise ValueError(f"{FAILPOINT_ENV}={value!r}: expected NAME[:STAGE][@N]")
    return name, stage or None, int(count) if count else 1


_FAILPOINT = _parse_failpoint(os.environ.get(FAILPOINT_ENV))
FAILPOINT_ARMED = _FAILPOINT is not None
_failpoint_hits = 0


def failpoint(name: str, stage: str) -> None:
    """Crash here if ORDERGATE_FAILPOINT says so (see the module docstring). Call it as
    `if FAILPOINT_ARMED: failpoint(...)` where it must cost nothing."""
    global _failpoint_hits
    if _FAILPOINT is None:
        return
    wanted, wanted_stage, nth = _FAILPOINT
    if wanted != name or (wanted_stage is not None and wanted_stage != stage):
        return
    _failpoint_hits += 1
    if _failpoint_hits < nth:
        return
    sys.stderr.write(f"ordergate: failpoint {name}:{stage}@{_failpoint_hits} hit: exiting with 137\n")
    sys.stderr.flush()
    os._exit(FAILPOINT_EXIT_CODE)


def idempotent(
    consumer: str, database: Database, handler: StageHandler, relay: OutboxRelay | None = None
) -> Handler:
    async def handle(message: BusMessage) -> None:
        try:
            async with database.transaction() as session:
                seen = await session.scalar(
                    select(ProcessedMessage.message_id).where(
                        ProcessedMessage.consumer == consumer,
                        ProcessedMessage.message_id == message.message_id,
                    )
                )
                if seen is not None:
                    return
                caused = await handler(session, message)
                session.add(
                    ProcessedMessage(consumer=consumer, message_id=message.message_id, processed_at=utcnow())
                )
                enqueue(session, caused)
        except IntegrityError:
            # A concurrent delivery of the same message committed first: its effect stands, ours is void.
            async with database.session() as session:
                done = await session.get(ProcessedMessage, (consumer, message.message_id))
            if done is None:
                raise
            return
        if FAILPOINT_ARMED:
            failpoint("after_commit_before_ack", consumer)
        if relay is not None:
            relay.wake()

    return handle
