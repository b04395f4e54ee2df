"""Failed work: one view over the two kinds of things operations must look at — documents that could
not be translated (`Failure`, id f<n>) and pipeline messages the bus gave up on (`ParkedMessage`, id
p<n>) — and the actions on them (replay, discard), each audited. The CLI (`ordergate failed`) and the API
(`/api/failures`) serve the same listing, detail and actions from here, with the same shapes and rules."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import AuditView, as_utc, list_audit
from gateway.bus.base import PARKED_QUEUE, BusMessage
from gateway.bus.factory import check_routable
from gateway.core.errors import GatewayError
from gateway.ingest import Ingestor
from gateway.partner_formats import formats_for, translate_for
from gateway.pipeline import operations
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Failure, ParkedMessage

FailedKind = Literal["document", "message"]
KindFilter = Literal["documents", "messages", "all"]
StatusFilter = Literal["open", "replayed", "discarded", "all"]
ID_HELP = "f<n> for a document failure, p<n> for a parked pipeline message"
_REF = re.compile(r"\s*([fp])(\d{1,9})\s*", re.IGNORECASE)

log = logging.getLogger("ordergate.failed")


class FailedProblem(GatewayError):
    """An action on failed work that cannot be done; `http_status` is what the API answers."""

    code = "FAILED_ACTION"
    http_status = 400

    def __str__(self) -> str:
        return self.message


class UnknownFailed(FailedProblem):
    code = "NOT_FOUND"
    http_status = 404


class NotOpen(FailedProblem):
    code = "NOT_OPEN"
    http_status = 409


class CannotReplay(FailedProblem):
    code = "NOT_REPLAYABLE"
    http_status = 409


class ReasonRequired(FailedProblem):
    code = "REASON_REQUIRED"
    http_status = 422


class ReprocessFailed(FailedProblem):
    code = "REPROCESS_FAILED"
    http_status = 500


@dataclass(frozen=True, slots=True)
class FailedRef:
    """A failed record across both kinds: `f12` is document failure 12, `p3` parked message 3."""

    kind: FailedKind
    number: int

    @classmethod
    def parse(cls, text: str) -> FailedRef:
        match = _REF.fullmatch(text)
        if match is None:
            raise UnknownFailed(f"no failed record {text!r}: ids are {ID_HELP}")
        return cls("document" if match[1].lower() == "f" else "message", int(match[2]))

    def __str__(self) -> str:
        return f"{'f' if self.kind == 'document' else 'p'}{self.number}"

    @property
    def noun(self) -> str:
        return "document failure" if self.kind == "document" else "parked message"

    @property
    def target(self) -> str:
        """How the audit log names the record (see `gateway.pipeline.operations`)."""
        return f"{'failure' if self.kind == 'document' else 'parked'}:{self.number}"


class FailedItem(BaseModel):
    """One row of the unified listing."""

    id: str = Field(description=f"Unique across kinds: {ID_HELP}")
    kind: FailedKind = Field(description="document: could not be translated; message: parked by the bus")
    status: str = Field(description="open, replayed or discarded")
    stage: str = Field(description="The stage that failed or gave up")
    code: str | None = Field(description="The first issue's code (documents)")
    reason: str
    where: str | None = Field(
        description="Documents: segment #position element; messages: the order or document concerned"
    )
    attempts: int | None = Field(description="Attempts before the message was parked (messages)")
    at: datetime = Field(description="When it failed or was parked")
    document_id: str | None
    order_id: str | None = None
    segment: str | None = None
    position: int | None = None
    element: str | None = None


class FailedList(BaseModel):
    failures: list[FailedItem] = Field(description="Newest first, both kinds merged")


class DocumentFacts(BaseModel):
    id: str
    status: str
    channel: str
    filename: str | None
    claimed_partner: str | None
    partner: str | None
    received_at: datetime


class FailedDetail(FailedItem):
    """Everything known about one failed record, and what operations did about it so far."""

    issues: list[dict[str, Any]] = Field(default_factory=list, description="Every issue found (documents)")
    document: DocumentFacts | None = Field(default=None, description="The failed document (documents)")
    message_id: str | None = Field(default=None, description="Kept on replay (messages)")
    routing_key: str | None = Field(default=None, description="Where a replay publishes it (messages)")
    headers: dict[str, Any] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list, description="Every failed attempt")
    body: Any = Field(default=None, description="The message body: parsed JSON, text or base64")
    body_format: Literal["json", "text", "base64"] | None = None
    audit: list[AuditView] = Field(default_factory=list, description="Actions on this record, newest first")


class ProcessedNow(BaseModel):
    """The outcome of reprocessing a replayed document in-process (`--now`)."""

    status: str = Field(description="accepted or failed")
    orders: list[str]
    failure: str | None = Field(description="The new failure's id when it failed again")
    errors: list[dict[str, Any]]


class ActionResult(BaseModel):
    id: str
    kind: FailedKind
    action: Literal["replay", "discard"]
    status: str = Field(description="The record's status afterwards")
    queued: bool = Field(description="True when work was queued for the pipeline (replays)")
    document_id: str | None = None
    order_id: str | None = None
    message_id: str | None = None
    routing_key: str | None = None
    processed: ProcessedNow | None = None


def where_text(segment: str | None, position: int | None, element: str | None) -> str | None:
    parts = [segment or "", f"#{position}" if position is not None else "", element or ""]
    return " ".join(p for p in parts if p) or None


def _failure_item(failure: Failure) -> FailedItem:
    return FailedItem(
        id=str(FailedRef("document", failure.id)),
        kind="document",
        status=failure.status,
        stage=failure.stage,
        code=failure.code,
        reason=failure.reason,
        where=where_text(failure.segment, failure.position, failure.element),
        attempts=None,
        at=as_utc(failure.created_at),
        document_id=failure.document_id,
        segment=failure.segment,
        position=failure.position,
        element=failure.element,
    )


def _parked_item(parked: ParkedMessage) -> FailedItem:
    where = (
        f"order {parked.order_id}"
        if parked.order_id
        else f"document {parked.document_id}"
        if parked.document_id
        else None
    )
    return FailedItem(
        id=str(FailedRef("message", parked.id)),
        kind="message",
        status=parked.status,
        stage=parked.stage,
        code=None,
        reason=parked.reason,
        where=where,
        attempts=parked.attempts,
        at=as_utc(parked.parked_at),
        document_id=parked.document_id,
        order_id=parked.order_id,
    )


async def list_failed(
    session: AsyncSession, *, kind: KindFilter = "all", status: StatusFilter = "open", limit: int = 50
) -> list[FailedItem]:
    """Both kinds merged, newest first, at most `limit`."""
    items: list[FailedItem] = []
    if kind in ("documents", "all"):
        failures = await repo.list_failures(session, status=None if status == "all" else status, limit=limit)
        items.extend(_failure_item(f) for f in failures)
    if kind in ("messages", "all"):
        query = (
            select(ParkedMessage)
            .order_by(ParkedMessage.parked_at.desc(), ParkedMessage.id.desc())
            .limit(limit)
        )
        if status != "all":
            query = query.where(ParkedMessage.status == status)
        items.extend(_parked_item(p) for p in (await session.scalars(query)).all())
    items.sort(key=lambda i: (i.at, i.kind, int(i.id[1:])), reverse=True)
    return items[:limit]


def _decode_body(raw: bytes) -> tuple[Any, Literal["json", "text", "base64"]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"
    try:
        return json.loads(text), "json"
    except ValueError:
        return text, "text"


async def get_failed(session: AsyncSession, ref: FailedRef) -> FailedDetail:
    audit = await list_audit(session, limit=1000, target=ref.target)
    if ref.kind == "document":
        failure = await repo.get_failure(session, ref.number)
        if failure is None:
            raise UnknownFailed(f"no {ref.noun} {ref}")
        document = await repo.get_document(session, failure.document_id)
        facts = (
            DocumentFacts(
                id=document.id,
                status=document.status,
                channel=document.channel,
                filename=document.filename,
                claimed_partner=document.claimed_partner,
                partner=document.partner_id,
                received_at=as_utc(document.received_at),
            )
            if document is not None
            else None
        )
        return FailedDetail(
            **_failure_item(failure).model_dump(), issues=list(failure.issues), document=facts, audit=audit
        )
    parked = await session.get(ParkedMessage, ref.number)
    if parked is None:
        raise UnknownFailed(f"no {ref.noun} {ref}")
    body, body_format = _decode_body(parked.body)
    return FailedDetail(
        **_parked_item(parked).model_dump(),
        message_id=parked.message_id,
        routing_key=parked.routing_key,
        headers=dict(parked.headers or {}),
        history=list(parked.history or []),
        body=body,
        body_format=body_format,
        audit=audit,
    )


async def _claim(session: AsyncSession, ref: FailedRef) -> Failure | ParkedMessage:
    """The record, locked for this transaction and still open.

    The no-op UPDATE comes first on purpose: it takes PostgreSQL's row lock and SQLite's write lock before
    anything is read, so two operators acting on the same record at once cannot both find it open — the
    second waits, then sees what the first did.
    """
    record: Failure | ParkedMessage | None
    if ref.kind == "document":
        await session.execute(
            update(Failure)
            .where(Failure.id == ref.number)
            .values(status=Failure.status)
            .execution_options(synchronize_session=False)
        )
        record = await session.get(Failure, ref.number, populate_existing=True)
    else:
        await session.execute(
            update(ParkedMessage)
            .where(ParkedMessage.id == ref.number)
            .values(status=ParkedMessage.status)
            .execution_options(synchronize_session=False)
        )
        record = await session.get(ParkedMessage, ref.number, populate_existing=True)
    if record is None:
        raise UnknownFailed(f"no {ref.noun} {ref}")
    if record.status != "open":
        raise NotOpen(f"{ref} is already {record.status}")
    return record


def _original_routing_key(parked: ParkedMessage) -> str:
    """The key to publish a replay under: without any `parked.` prefix (the recorder strips it, but a
    row written otherwise must not send the replay back to the parking queue), and routable — an
    unroutable row would make the outbox relay fail its whole batch on every turn."""
    key = parked.routing_key
    while key.startswith(f"{PARKED_QUEUE}."):
        key = key.removeprefix(f"{PARKED_QUEUE}.")
    try:
        check_routable([BusMessage(routing_key=key, body=b"")])
    except GatewayError as error:
        raise CannotReplay(f"p{parked.id} cannot be replayed: {error.message}") from error
    if key.split(".", 1)[0] == PARKED_QUEUE:
        raise CannotReplay(f"p{parked.id} cannot be replayed: routing key {key!r} names no stage")
    return key


def check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > 100:
        raise FailedProblem("the actor must be 1 to 100 characters")
    return actor


def _check_reason(reason: str | None, *, required: bool) -> str | None:
    reason = reason.strip() if reason else None
    if required and not reason:
        raise ReasonRequired("a reason is required")
    return reason or None


async def replay_failed(
    database: Database, ref: FailedRef, *, actor: str, reason: str | None
) -> ActionResult:
    """Queue the record's work again (one transaction: status, audit entry, outbox message).

    A document failure is re-announced to intake and re-translated from its archived bytes; a parked
    message is republished under its original id and routing key. Nothing runs until a pipeline (or
    worker) consumes the queue; see `replay_failed_now` for document failures without one.
    """
    actor, reason = check_actor(actor), _check_reason(reason, required=False)
    try:
        async with database.transaction() as session:
            record = await _claim(session, ref)
            if isinstance(record, Failure):
                document = await operations.replay_failure(session, ref.number, actor=actor, reason=reason)
                return ActionResult(
                    id=str(ref),
                    kind=ref.kind,
                    action="replay",
                    status=record.status,
                    queued=True,
                    document_id=document.id,
                )
            record.routing_key = _original_routing_key(record)
            await operations.replay_parked(session, ref.number, actor=actor, reason=reason)
            return ActionResult(
                id=str(ref),
                kind=ref.kind,
                action="replay",
                status=record.status,
                queued=True,
                document_id=record.document_id,
                order_id=record.order_id,
                message_id=record.message_id,
                routing_key=record.routing_key,
            )
    except operations.NotReplayable as error:
        raise NotOpen(f"{ref}: {error.message}") from error


async def replay_failed_now(
    database: Database, ref: FailedRef, *, actor: str, reason: str | None
) -> ActionResult:
    """Replay a document failure and reprocess the document in this process, in one transaction.

    The replay bookkeeping (status, audit entry, intake message in the outbox) and the verdict (orders, or
    a new failure) commit together or not at all: a crash or an error leaves the failure open, to be
    replayed again, and the queued intake message finds the document already processed, so a pipeline
    started later (or running meanwhile) does not process it a second time. This is `Ingestor.process`
    (translate, then `store`) with the store in the replay's transaction.
    """
    if ref.kind != "document":
        raise CannotReplay(
            f"{ref} is a parked pipeline message: --now reprocesses document failures only; "
            "replay it without --now and the pipeline takes it from the queue"
        )
    actor, reason = check_actor(actor), _check_reason(reason, required=False)
    async with database.session() as session:
        failure = await repo.get_failure(session, ref.number)
        if failure is None:
            raise UnknownFailed(f"no {ref.noun} {ref}")
        if failure.status != "open":
            raise NotOpen(f"{ref} is already {failure.status}")
        document = await repo.get_document(session, failure.document_id, with_raw=True)
        if document is None:
            raise CannotReplay(f"{ref}: its document {failure.document_id} is not in the archive")
        raw = document.raw
        claimed = document.claimed_partner
        own = (await formats_for(session, [claimed])).get(claimed or "", [])
    ingestor = Ingestor(database)
    try:
        translation = await asyncio.to_thread(translate_for, raw, own)
        for attempt in (1, 2):
            try:
                async with database.transaction() as session:
                    await _claim(session, ref)
                    document = await operations.replay_failure(
                        session, ref.number, actor=actor, reason=reason
                    )
                    result = await ingestor.store(session, document.id, document.claimed_partner, translation)
                break
            except IntegrityError:
                # Another process stored the same interchange meanwhile: once more, and the duplicate
                # check sees it (as `Ingestor.process` does).
                if attempt == 2:
                    raise
    except FailedProblem:
        raise
    except operations.NotReplayable as error:
        raise NotOpen(f"{ref}: {error.message}") from error
    except Exception as error:
        log.debug("reprocessing %s failed", ref, exc_info=True)
        raise ReprocessFailed(
            f"{ref}: reprocessing failed ({type(error).__name__}: {error}); nothing was changed and "
            f"{ref} is still open"
        ) from error
    return ActionResult(
        id=str(ref),
        kind=ref.kind,
        action="replay",
        status="replayed",
        queued=True,
        document_id=result.document_id,
        processed=ProcessedNow(
            status=result.status,
            orders=list(result.order_ids),
            failure=str(FailedRef("document", result.failure_id)) if result.failure_id else None,
            errors=[e.model_dump(mode="json", exclude_none=True) for e in result.errors],
        ),
    )


async def discard_failed(
    database: Database, ref: FailedRef, *, actor: str, reason: str | None
) -> ActionResult:
    """Close the record without reprocessing it; it stays listed (status discarded), raw bytes and all."""
    actor, checked = check_actor(actor), _check_reason(reason, required=True)
    try:
        async with database.transaction() as session:
            record = await _claim(session, ref)
            kind = "failure" if ref.kind == "document" else "parked"
            await operations.discard(session, kind, ref.number, actor=actor, reason=checked)
            return ActionResult(
                id=str(ref),
                kind=ref.kind,
                action="discard",
                status=record.status,
                queued=False,
                document_id=record.document_id,
                order_id=record.order_id if isinstance(record, ParkedMessage) else None,
                message_id=record.message_id if isinstance(record, ParkedMessage) else None,
            )
    except operations.NotReplayable as error:
        raise NotOpen(f"{ref}: {error.message}") from error
