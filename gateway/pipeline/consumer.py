"""Idempotent consumers: the effect of a message, the record that it was processed and the messages it
causes commit in one transaction, then the bus acknowledges. A redelivery finds the record and does
nothing (RELIABILITY rule 3).

Messages in flight at the same time are handled as a batch in one transaction (`batching.Batcher`):
stage handlers take a batch and answer per message. A handler that fails one message must leave no
effect of it (it decides before it writes); that message alone gets its exception (`Park`, `Retry`…).
A batch whose transaction fails as a whole — a duplicate committed concurrently, a database error — is
handled again one message per transaction, so one poisoned message never holds back the others.

The messages a batch causes are published by the consumer itself right after the commit
(`outbox.Publisher`), and the batch's messages are acknowledged only once the confirms are in. A
redelivered message found processed has its batch's caused messages published again: its first
handling may have died between the commit and the publish. Failpoints: `failpoints.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage, Handler, Park
from gateway.pipeline.batching import Batcher
from gateway.pipeline.failpoints import FAILPOINT_ARMED, failpoint
from gateway.pipeline.outbox import NotPublished, Publisher, enqueue, recovery_batch
from gateway.storage.models import ProcessedMessage
from gateway.storage.repository import table_of, utcnow

Outcome = Sequence[BusMessage] | BaseException
"""Per message: the messages it causes, or the exception its delivery gets (it then had no effect)."""

StageHandler = Callable[[AsyncSession, Sequence[BusMessage]], Awaitable[Mapping[str, Outcome]]]
"""A stage's work on a batch inside the consumer's transaction, answering per message id."""

MAX_BATCH = 100

_RECORDS = table_of(ProcessedMessage)
_PROCESSED = select(_RECORDS.c.message_id, _RECORDS.c.batch).where(
    _RECORDS.c.consumer == bindparam("consumer"), _RECORDS.c.message_id.in_(bindparam("ids", expanding=True))
)
_RECORD = insert(_RECORDS)


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
        batch = recovery_batch(session)
        await session.execute(
            _RECORD,
            [
                {"consumer": consumer, "message_id": m.message_id, "processed_at": now, "batch": batch}
                for m in messages
            ],
        )


async def already_processed(session: AsyncSession, consumer: str, message_ids: Collection[str]) -> set[str]:
    """Those of these messages this consumer has processed before. What their batches caused is
    published again after this transaction: a redelivery may follow a crash before the publish."""
    rows = (await session.execute(_PROCESSED, {"consumer": consumer, "ids": list(set(message_ids))})).all()
    await Publisher.resend(session, {row.batch for row in rows})
    return {row.message_id for row in rows}


def _caused(outcome: Outcome | None) -> Sequence[BusMessage]:
    return () if outcome is None or isinstance(outcome, BaseException) else outcome


def idempotent(
    consumer: str, handler: StageHandler, publisher: Publisher, *, max_batch: int = MAX_BATCH
) -> Handler:
    async def in_one_transaction(messages: list[BusMessage]) -> list[BaseException | None]:
        async with publisher.transaction(consumer) as session:
            seen = await already_processed(session, consumer, [m.message_id for m in messages])
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
        except NotPublished as error:
            return error
        except IntegrityError as error:
            # A concurrent delivery of the same message committed first: its effect stands, ours is void.
            async with publisher.database.session() as session:
                done = await session.get(ProcessedMessage, (consumer, message.message_id))
            return None if done is not None else error
        except Exception as error:
            return error

    async def run(messages: list[BusMessage]) -> list[BaseException | None]:
        if len(messages) == 1:
            return [await alone(messages[0])]
        try:
            return await in_one_transaction(messages)
        except NotPublished as error:
            return [error] * len(messages)  # committed: their redelivery publishes the batch again
        except Exception:
            return [await alone(m) for m in messages]

    batcher: Batcher[BusMessage, BaseException | None] = Batcher(run, max_size=max_batch)

    async def handle(message: BusMessage) -> None:
        await batcher.submit(message)  # raises the message's own exception
        if FAILPOINT_ARMED:
            failpoint("after_commit_before_ack", consumer)

    return handle
