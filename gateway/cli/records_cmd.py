"""`ordergate orders|documents list|show`: what was received and what became of it; `ordergate failed
list|show|replay|discard`: what went wrong, and what operations do about it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from gateway.cli.context import run_with_database
from gateway.cli.output import cell, fail, print_fields, print_json, print_table
from gateway.failed import (
    ID_HELP,
    ActionResult,
    FailedDetail,
    FailedItem,
    FailedList,
    FailedProblem,
    FailedRef,
    check_actor,
    discard_failed,
    get_failed,
    list_failed,
    replay_failed,
    replay_failed_now,
    where_text,
)
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.views import document_json, order_detail, order_summary

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
        return check_actor(actor or os.environ.get("USER") or "cli")
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
        where = where_text(issue.get("segment"), issue.get("position"), issue.get("element"))
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
