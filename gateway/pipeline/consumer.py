"""Idempotent consumers: the effect of a message, the record that it was processed and the messages it
causes commit in one transaction, then the bus acknowledges. A redelivery finds the record and does
nothing (RELIABILITY rule 3)."""

from __future__ import annotations

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
        if relay is not None:
            relay.wake()

    return handle
