"""What operations can do about what went wrong: replay or discard parked messages and failed
documents. Every action is written to the audit log (who, when, what, why) in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import BusMessage
from gateway.core.errors import GatewayError
from gateway.pipeline.messages import document_message
from gateway.pipeline.outbox import enqueue
from gateway.storage import repository as repo
from gateway.storage.models import AuditEntry, Document, Failure, ParkedMessage


class NotReplayable(GatewayError):
    code = "NOT_REPLAYABLE"


def audit(
    session: AsyncSession, *, actor: str, action: str, target: str, reason: str | None, **detail: Any
) -> None:
    session.add(
        AuditEntry(at=repo.utcnow(), actor=actor, action=action, target=target, reason=reason, detail=detail)
    )


async def archive_and_announce(
    session: AsyncSession,
    raw: bytes,
    *,
    channel: str,
    filename: str | None = None,
    content_type: str | None = None,
    partner_id: str | None = None,
) -> Document:
    """Intake for the queued pipeline: the raw bytes and the message announcing them commit together."""
    document = await repo.archive_document(
        session, raw, channel=channel, filename=filename, content_type=content_type, partner_id=partner_id
    )
    await enqueue(session, [document_message("intake", document.id, partner=partner_id, channel=channel)])
    return document


async def replay_parked(
    session: AsyncSession, parked_id: int, *, actor: str, reason: str | None
) -> ParkedMessage:
    """Republish a parked message with its original id, so a replay of something that meanwhile
    succeeded is absorbed by the idempotent consumer."""
    parked = await session.get(ParkedMessage, parked_id)
    if parked is None:
        raise NotReplayable(f"no parked message {parked_id}")
    if parked.status != "open":
        raise NotReplayable(f"parked message {parked_id} is already {parked.status}")
    headers = {k: v for k, v in parked.headers.items() if not k.startswith("x-og-")}
    await enqueue(
        session,
        [
            BusMessage(
                routing_key=parked.routing_key,
                body=parked.body,
                message_id=parked.message_id,
                headers=headers,
            )
        ],
    )
    parked.status = "replayed"
    audit(
        session, actor=actor, action="replay", target=f"parked:{parked_id}", reason=reason, stage=parked.stage
    )
    return parked


async def replay_failure(
    session: AsyncSession, failure_id: int, *, actor: str, reason: str | None
) -> Document:
    """Reprocess a failed document from its archived raw bytes, so a fixed partner set-up takes effect."""
    failure = await session.get(Failure, failure_id)
    if failure is None:
        raise NotReplayable(f"no failure {failure_id}")
    if failure.status != "open":
        raise NotReplayable(f"failure {failure_id} is already {failure.status}")
    document = await repo.get_document(session, failure.document_id)
    assert document is not None
    failure.status = "replayed"
    document.status = "received"
    document.processed_at = None
    await enqueue(
        session,
        [document_message("intake", document.id, partner=document.claimed_partner, channel=document.channel)],
    )
    audit(
        session,
        actor=actor,
        action="replay",
        target=f"failure:{failure_id}",
        reason=reason,
        document=document.id,
    )
    return document


async def discard(
    session: AsyncSession, kind: str, record_id: int, *, actor: str, reason: str | None
) -> None:
    """Close a parked message or a failure without reprocessing it; the record and raw bytes stay."""
    record: ParkedMessage | Failure | None = (
        await session.get(ParkedMessage, record_id)
        if kind == "parked"
        else await session.get(Failure, record_id)
    )
    if record is None:
        raise NotReplayable(f"no {kind} {record_id}")
    if record.status != "open":
        raise NotReplayable(f"{kind} {record_id} is already {record.status}")
    record.status = "discarded"
    audit(session, actor=actor, action="discard", target=f"{kind}:{record_id}", reason=reason)
