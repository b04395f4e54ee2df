"""Idempotent consumers: the effect of a message, the record that it was processed and the messages it
causes commit in one transaction, then the bus acknowledges. A redelivery finds the record and does
nothing (RELIABILITY rule 3).

Messages in flight at the same time are handled as a batch in one transaction (`batching.Batcher`):
stage handlers take a batch and answer per message. A handler that fails one message must leave no
effect of it (it decides before it writes); that message alone gets its exception (`Park`, `Retry`…).
A batch whose transaction fails as a whole — a duplicate committed concurrently, a database error — is
handled again one message per transaction, so one poisoned message never holds back the others.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage, Handler, Park
from gateway.pipeline.batching import Batcher
from gateway.pipeline.outbox import OutboxRelay, enqueue
from gateway.storage.database import Database
from gateway.storage.models import ProcessedMessage
from gateway.storage.repository import table_of, utcnow

Outcome = Sequence[BusMessage] | BaseException
"""Per message: the messages it causes, or the exception its delivery gets (it then had no effect)."""

StageHandler = Callable[[AsyncSession, Sequence[BusMessage]], Awaitable[Mapping[str, Outcome]]]
"""A stage's work on a batch inside the consumer's transaction, answering per message id."""

FAILPOINT_ENV = "ORDERGATE_FAILPOINT"
FAILPOINT_EXIT_CODE = 137
MAX_BATCH = 100


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


def body_field(message: BusMessage, key: str) -> str:
    """A string field of a stage message's JSON body; a message without it can only be parked."""
    try:
        value = message.json()[key]
    except (ValueError, TypeError, KeyError) as error:
        raise Park(f"message body has no {key!r}: {type(error).__name__}") from error
    if not isinstance(value, str) or not value:
        raise Park(f"message body has no {key!r}")
    return value


async def record_processed(session: AsyncSession, consumer: str, messages: Sequence[BusMessage]) -> None:
    if messages:
        now = utcnow()
        await session.execute(
            insert(table_of(ProcessedMessage)),
            [{"consumer": consumer, "message_id": m.message_id, "processed_at": now} for m in messages],
        )


def _caused(outcome: Outcome | None) -> Sequence[BusMessage]:
    return () if outcome is None or isinstance(outcome, BaseException) else outcome


def idempotent(
    consumer: str,
    database: Database,
    handler: StageHandler,
    relay: OutboxRelay | None = None,
    *,
    max_batch: int = MAX_BATCH,
) -> Handler:
    async def in_one_transaction(messages: list[BusMessage]) -> list[BaseException | None]:
        async with database.transaction() as session:
            seen = set(
                await session.scalars(
                    select(ProcessedMessage.message_id).where(
                        ProcessedMessage.consumer == consumer,
                        ProcessedMessage.message_id.in_({m.message_id for m in messages}),
                    )
                )
            )
            fresh = list({m.message_id: m for m in messages if m.message_id not in seen}.values())
            outcomes = await handler(session, fresh) if fresh else {}
            done = [m for m in fresh if not isinstance(outcomes.get(m.message_id, ()), BaseException)]
            await record_processed(session, consumer, done)
            await enqueue(session, [c for m in done for c in _caused(outcomes.get(m.message_id))])
        failed = {k: v for k, v in outcomes.items() if isinstance(v, BaseException)}
        return [failed.get(m.message_id) for m in messages]

    async def alone(message: BusMessage) -> BaseException | None:
        try:
            return (await in_one_transaction([message]))[0]
        except IntegrityError as error:
            # A concurrent delivery of the same message committed first: its effect stands, ours is void.
            async with database.session() as session:
                done = await session.get(ProcessedMessage, (consumer, message.message_id))
            return None if done is not None else error
        except Exception as error:
            return error

    async def run(messages: list[BusMessage]) -> list[BaseException | None]:
        if len(messages) == 1:
            results = [await alone(messages[0])]
        else:
            try:
                results = await in_one_transaction(messages)
            except Exception:
                results = [await alone(m) for m in messages]
        if relay is not None:
            relay.wake()  # once per batch: what it committed may have caused messages
        return results

    batcher: Batcher[BusMessage, BaseException | None] = Batcher(run, max_size=max_batch)

    async def handle(message: BusMessage) -> None:
        await batcher.submit(message)  # raises the message's own exception
        if FAILPOINT_ARMED:
            failpoint("after_commit_before_ack", consumer)

    return handle
