"""`ordergate orders|documents list|show`: what was received and what became of it; `ordergate failed
list|show|replay|discard`: what went wrong, and what operations do about it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.bus.base import PARKED_QUEUE, BusMessage
from gateway.bus.factory import check_routable
from gateway.cli.audit_cmd import AuditView, as_utc, list_audit
from gateway.cli.context import run_with_database
from gateway.cli.output import cell, fail, print_fields, print_json, print_table
from gateway.core.errors import GatewayError
from gateway.ingest import Ingestor
from gateway.pipeline import operations
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Failure, ParkedMessage
from gateway.views import document_json, order_detail, order_summary
from mappings.translate import translate

orders_app = typer.Typer(help="Canonical orders.", no_args_is_help=True)
documents_app = typer.Typer(help="Received documents, archived raw.", no_args_is_help=True)
failed_app = typer.Typer(
    help="What went wrong: documents that could not be translated (f<n>) and pipeline messages that "
    "were parked (p<n>); replay or discard them.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LimitOption = Annotated[int, typer.Option(help="How many, newest first.")]


@orders_app.command("list")
def orders_list(
    partner: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List orders, newest first."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            rows = await repo.list_orders(session, partner_id=partner, status=status, limit=limit)
            return [order_summary(o) for o in rows]

    orders = run_with_database(body)
    if as_json:
        print_json({"orders": orders})
        return
    print_table(
        ["ID", "ORDER NO", "PARTNER", "STATUS", "DATE", "LINES", "BUYER", "RECEIVED"],
        [
            [
                o["id"],
                o["order_number"],
                o["partner"],
                o["status"],
                o["order_date"],
                o["lines"],
                o["buyer"],
                o["created_at"][:19],
            ]
            for o in orders
        ],
        empty="no orders yet",
    )


@orders_app.command("show")
def orders_show(order_id: str, as_json: JsonOption = False) -> None:
    """Show one order with its lines and status history."""

    async def body(database: Database, _: Settings) -> dict[str, Any] | None:
        async with database.session() as session:
            order = await repo.get_order(session, order_id)
            return order_detail(order) if order else None

    order = run_with_database(body)
    if order is None:
        fail(f"no order {order_id!r}")
    if as_json:
        print_json(order)
        return
    canonical = order["canonical"]
    source = canonical["source"]
    print_fields(
        [
            ("order", order["order_number"]),
            ("id", order["id"]),
            ("partner", order["partner"]),
            ("status", order["status"]),
            ("purpose", canonical["purpose"]),
            ("order date", order["order_date"]),
            ("delivery", order["requested_delivery_date"]),
            ("currency", order["currency"]),
            ("source", f"{source['format']} {source['message_type']} {source.get('standard_version') or ''}"),
            ("sender", source.get("sender_id")),
            ("interchange", source.get("interchange_control_ref")),
            ("document", order["document_id"]),
        ]
    )
    for role in ("buyer", "seller", "ship_to", "bill_to"):
        party = canonical.get(role)
        if party:
            ids = ", ".join(f"{i['scheme']} {i['value']}" for i in party.get("identifiers", []))
            typer.echo(f"{role:<10}  {party.get('name') or '-'}  {ids}")
    typer.echo("")
    print_table(
        ["LINE", "GTIN", "BUYER ITEM", "SELLER ITEM", "QTY", "UNIT", "PRICE", "DESCRIPTION"],
        [
            [
                line["line_number"],
                line.get("gtin"),
                line.get("buyer_item_id"),
                line.get("seller_item_id"),
                line["quantity"],
                line.get("unit"),
                line.get("unit_price"),
                line.get("description"),
            ]
            for line in canonical["lines"]
        ],
    )
    typer.echo("")
    print_table(
        ["STATUS", "AT", "DETAIL"], [[e["status"], e["at"][:19], e["detail"]] for e in order["events"]]
    )
    for warning in order["warnings"]:
        typer.echo(f"warning: {warning['code']}: {warning['message']}")


@documents_app.command("list")
def documents_list(
    status: Annotated[str | None, typer.Option(help="received, accepted or failed")] = None,
    partner: Annotated[str | None, typer.Option()] = None,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List received documents, newest first."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            rows = await repo.list_documents(session, status=status, partner_id=partner, limit=limit)
            return [document_json(d) for d in rows]

    documents = run_with_database(body)
    if as_json:
        print_json({"documents": documents})
        return
    print_table(
        ["ID", "STATUS", "CHANNEL", "PARTNER", "FORMAT", "TYPES", "BYTES", "FILE", "RECEIVED"],
        [
            [
                d["id"],
                d["status"],
                d["channel"],
                d["partner"],
                d["format"],
                ",".join(d["message_types"]),
                d["size"],
                d["filename"],
                d["received_at"][:19],
            ]
            for d in documents
        ],
        empty="no documents yet",
    )


@documents_app.command("show")
def documents_show(
    document_id: str,
    raw: Annotated[bool, typer.Option("--raw", help="Write the archived bytes to standard output.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show one document: its archive facts, its orders or its failure."""

    async def body(database: Database, _: Settings) -> tuple[dict[str, Any], bytes] | None:
        async with database.session() as session:
            document = await repo.get_document(session, document_id, with_raw=raw)
            if document is None:
                return None
            orders = await repo.list_orders(session, document_id=document_id, limit=100_000)
            failures = await repo.list_failures(session, status=None, document_id=document_id)
            view = document_json(document, order_ids=[o.id for o in orders], failures=failures)
            return view, (document.raw if raw else b"")

    found = run_with_database(body)
    if found is None:
        fail(f"no document {document_id!r}")
    document, content = found
    if raw:
        sys.stdout.buffer.write(content)
        return
    if as_json:
        print_json(document)
        return
    print_fields(
        [
            (k, document[k])
            for k in (
                "id",
                "status",
                "channel",
                "partner",
                "filename",
                "format",
                "interchange_ref",
                "size",
                "sha256",
                "received_at",
                "processed_at",
            )
        ]
    )
    typer.echo(f"{'orders':<15}  {', '.join(document['orders']) or '-'}")
    for failure in document["failures"]:
        typer.echo(f"failure f{failure['id']} ({failure['status']}): {failure['reason']}")


# Failed work -------------------------------------------------------------------------------------------
#
# One view over the two kinds of things operations must look at: documents that could not be translated
# (`Failure`, id f<n>) and pipeline messages the bus gave up on (`ParkedMessage`, id p<n>). The models and
# async functions in this section carry no CLI concerns: `partner_portal.routes.failures` serves the same
# listing, detail and actions from them, so both answer with the same shapes and rules.

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


def _where_text(segment: str | None, position: int | None, element: str | None) -> str | None:
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
        where=_where_text(failure.segment, failure.position, failure.element),
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


def _check_actor(actor: str) -> str:
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
    actor, reason = _check_actor(actor), _check_reason(reason, required=False)
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
    actor, reason = _check_actor(actor), _check_reason(reason, required=False)
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
    ingestor = Ingestor(database)
    try:
        translation = await asyncio.to_thread(translate, raw)
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
    actor, checked = _check_actor(actor), _check_reason(reason, required=True)
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


# The `failed` commands ----------------------------------------------------------------------------------


class KindChoice(StrEnum):
    documents = "documents"
    messages = "messages"
    all = "all"


class StatusChoice(StrEnum):
    open = "open"
    replayed = "replayed"
    discarded = "discarded"
    all = "all"


ActorOption = Annotated[
    str | None, typer.Option(help="Who is acting, for the audit log. Default $USER, else 'cli'.")
]


def _valid_actor(actor: str | None) -> str:
    try:
        return _check_actor(actor or os.environ.get("USER") or "cli")
    except FailedProblem as error:
        raise typer.BadParameter(str(error), param_hint="'--actor'") from None


def _refs(ids: list[str]) -> list[FailedRef]:
    """Every id parsed up front (a typo stops the command before anything is done), duplicates once."""
    refs: list[FailedRef] = []
    for text in ids:
        try:
            ref = FailedRef.parse(text)
        except FailedProblem as error:
            fail(str(error))
        if ref not in refs:
            refs.append(ref)
    return refs


@failed_app.command("list")
def failed_list(
    kind: Annotated[KindChoice, typer.Option(help="Document failures, parked messages, or both.")] = (
        KindChoice.all
    ),
    status: Annotated[StatusChoice, typer.Option(help="open, replayed, discarded, or all.")] = (
        StatusChoice.open
    ),
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List failed documents (f<n>) and parked pipeline messages (p<n>), newest first."""

    async def body(database: Database, _: Settings) -> list[FailedItem]:
        async with database.session() as session:
            return await list_failed(session, kind=kind.value, status=status.value, limit=limit)

    items = run_with_database(body)
    if as_json:
        print_json(FailedList(failures=items).model_dump(mode="json"))
        return
    with_status = status is not StatusChoice.open
    headers = ["KIND", "ID", "STAGE", "CODE/REASON", "WHERE", "ATTEMPTS", "AT"]
    print_table(
        [*headers[:2], "STATUS", *headers[2:]] if with_status else headers,
        [
            [
                i.kind,
                i.id,
                *([i.status] if with_status else []),
                i.stage,
                i.code or i.reason,
                i.where,
                i.attempts,
                i.at,
            ]
            for i in items
        ],
        empty="no failures",
    )


@failed_app.command("show")
def failed_show(
    failed_id: Annotated[str, typer.Argument(metavar="ID", help=ID_HELP)], as_json: JsonOption = False
) -> None:
    """Show everything about one failed document or parked message, and the actions taken on it."""
    [ref] = _refs([failed_id])

    async def body(database: Database, _: Settings) -> FailedDetail:
        async with database.session() as session:
            return await get_failed(session, ref)

    try:
        detail = run_with_database(body)
    except FailedProblem as error:
        fail(str(error))
    if as_json:
        print_json(detail.model_dump(mode="json"))
        return
    if detail.kind == "document":
        _show_document_failure(detail)
    else:
        _show_parked_message(detail)
    if detail.audit:
        typer.echo("audit:")
        for entry in detail.audit:
            typer.echo(f"  {cell(entry.at)}  {entry.actor}  {entry.action}: {entry.reason or '-'}")


def _show_document_failure(detail: FailedDetail) -> None:
    document = detail.document
    print_fields(
        [
            ("id", detail.id),
            ("kind", "document failure"),
            ("status", detail.status),
            ("stage", detail.stage),
            ("code", detail.code),
            ("where", detail.where),
            ("at", detail.at),
            ("document", detail.document_id),
            ("document status", document.status if document else None),
            ("channel", document.channel if document else None),
            ("filename", document.filename if document else None),
            ("claimed partner", document.claimed_partner if document else None),
            ("partner", document.partner if document else None),
            ("received", document.received_at if document else None),
        ]
    )
    typer.echo("issues:")
    for issue in detail.issues:
        where = _where_text(issue.get("segment"), issue.get("position"), issue.get("element"))
        at = f" at {where}" if where else ""
        typer.echo(f"  [{issue.get('severity', 'error')}] {issue.get('code')}{at}: {issue.get('message')}")


def _show_parked_message(detail: FailedDetail) -> None:
    print_fields(
        [
            ("id", detail.id),
            ("kind", "parked message"),
            ("status", detail.status),
            ("stage", detail.stage),
            ("reason", detail.reason),
            ("message id", detail.message_id),
            ("routing key", detail.routing_key),
            ("attempts", detail.attempts),
            ("parked at", detail.at),
            ("document", detail.document_id),
            ("order", detail.order_id),
        ]
    )
    typer.echo("history:")
    for number, attempt in enumerate(detail.history, start=1):
        typer.echo(
            f"  {number}. {str(attempt.get('at') or '-')[:19]}  {attempt.get('queue') or '-'}: "
            f"{attempt.get('error') or '-'}"
        )
    if not detail.history:
        typer.echo("  (none recorded)")
    typer.echo("headers:")
    for key in sorted(detail.headers):
        typer.echo(f"  {key}: {detail.headers[key]}")
    if not detail.headers:
        typer.echo("  (none)")
    typer.echo(f"body ({detail.body_format}):")
    text = (
        json.dumps(detail.body, indent=2, ensure_ascii=False) if detail.body_format == "json" else detail.body
    )
    for line in str(text).splitlines() or [""]:
        typer.echo(f"  {line}")


def _report(
    results: list[ActionResult], errors: list[tuple[FailedRef, str]], as_json: bool, *, now: bool = False
) -> None:
    """Print what was done and what was not; exit 1 if anything was refused or a document failed again."""
    failed_again = any(r.processed is not None and r.processed.status != "accepted" for r in results)
    if as_json:
        print_json(
            {
                "results": [r.model_dump(mode="json") for r in results],
                "errors": [{"id": str(ref), "error": message} for ref, message in errors],
            }
        )
    else:
        for result in results:
            typer.echo(_describe(result))
            if result.processed is not None:
                for issue in result.processed.errors:
                    typer.echo(f"  [error] {issue.get('code')}: {issue.get('message')}")
        for _, message in errors:
            typer.echo(f"error: {message}", err=True)
        queued_documents = any(r.kind == "document" and r.processed is None and r.queued for r in results)
        if queued_documents and not now:
            typer.echo(
                "note: queued work is processed by a running pipeline (`ordergate serve`, or workers); "
                "without one, `ordergate failed replay --now` reprocesses document failures here"
            )
    if errors or failed_again:
        raise typer.Exit(1)


def _describe(result: ActionResult) -> str:
    if result.action == "discard":
        return f"{result.id}: discarded"
    processed = result.processed
    if processed is None:
        subject = (
            f"document {result.document_id}"
            if result.kind == "document"
            else f"message {result.message_id} to {result.routing_key}"
        )
        return f"{result.id}: queued for reprocessing ({subject})"
    if processed.status == "accepted":
        return (
            f"{result.id}: replayed and reprocessed: document {result.document_id} accepted, "
            f"{len(processed.orders)} order(s): {', '.join(processed.orders) or '-'}"
        )
    return (
        f"{result.id}: replayed and reprocessed: document {result.document_id} failed again, "
        f"see {processed.failure}"
    )


def _act(
    refs: list[FailedRef],
    action: Callable[[Database, FailedRef], Awaitable[ActionResult]],
) -> tuple[list[ActionResult], list[tuple[FailedRef, str]]]:
    """Each record in its own transaction: one that cannot be acted on does not hold up the others."""

    async def body(database: Database, _: Settings) -> tuple[list[ActionResult], list[tuple[FailedRef, str]]]:
        results: list[ActionResult] = []
        errors: list[tuple[FailedRef, str]] = []
        for ref in refs:
            try:
                results.append(await action(database, ref))
            except FailedProblem as error:
                errors.append((ref, str(error)))
        return results, errors

    return run_with_database(body)


@failed_app.command("replay")
def failed_replay(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help=ID_HELP)],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
    actor: ActorOption = None,
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Document failures: reprocess right here, in the replay's transaction, instead of "
            "waiting for a pipeline to take the queued work. Exits 1 if a document fails again.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Replay failed documents and parked messages: queue their work again for the pipeline.

    A document is re-translated from its archived bytes (after a partner or mapping fix); a parked message
    is republished with its original id and routing key. Every replay is in the audit log.
    """
    refs = _refs(ids)
    if now and (messages := [str(r) for r in refs if r.kind == "message"]):
        fail(
            f"--now reprocesses document failures only; {', '.join(messages)} "
            f"{'is a parked message' if len(messages) == 1 else 'are parked messages'}: "
            "replay without --now and the pipeline takes them from the queue"
        )
    who = _valid_actor(actor)
    replay = replay_failed_now if now else replay_failed
    results, errors = _act(refs, lambda database, ref: replay(database, ref, actor=who, reason=reason))
    _report(results, errors, as_json, now=now)


@failed_app.command("discard")
def failed_discard(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help=ID_HELP)],
    reason: Annotated[str, typer.Option(help="Why it needs no reprocessing (required), for the audit log.")],
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close failed documents or parked messages without reprocessing; they stay listed as discarded."""
    if not reason.strip():
        raise typer.BadParameter("a reason is required to discard", param_hint="'--reason'")
    refs = _refs(ids)
    who = _valid_actor(actor)
    results, errors = _act(
        refs, lambda database, ref: discard_failed(database, ref, actor=who, reason=reason)
    )
    _report(results, errors, as_json)
