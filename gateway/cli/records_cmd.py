"""`ordergate orders|documents|failed list|show`: what was received and what became of it."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_fields, print_json, print_table
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.views import document_json, failure_json, order_detail, order_summary

orders_app = typer.Typer(help="Canonical orders.", no_args_is_help=True)
documents_app = typer.Typer(help="Received documents, archived raw.", no_args_is_help=True)
failed_app = typer.Typer(help="Documents that could not be processed, and why.", no_args_is_help=True)

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
        typer.echo(f"failure {failure['id']} ({failure['status']}): {failure['reason']}")


@failed_app.command("list")
def failed_list(
    status: Annotated[str, typer.Option(help="open, or all")] = "open",
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List failures, newest first."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            rows = await repo.list_failures(session, status=None if status == "all" else status, limit=limit)
            return [failure_json(f) for f in rows]

    failures = run_with_database(body)
    if as_json:
        print_json({"failures": failures})
        return
    print_table(
        ["ID", "DOCUMENT", "CODE", "WHERE", "REASON", "AT"],
        [
            [f["id"], f["document_id"], f["code"], _where(f), f["reason"], f["created_at"][:19]]
            for f in failures
        ],
        empty="no failures",
    )


def _where(failure: dict[str, Any]) -> str:
    parts = [
        failure["segment"] or "",
        f"#{failure['position']}" if failure["position"] is not None else "",
        failure["element"] or "",
    ]
    return " ".join(p for p in parts if p) or "-"


@failed_app.command("show")
def failed_show(failure_id: int, as_json: JsonOption = False) -> None:
    """Show one failure with every issue found."""

    async def body(database: Database, _: Settings) -> dict[str, Any] | None:
        async with database.session() as session:
            failure = await repo.get_failure(session, failure_id)
            return failure_json(failure) if failure else None

    failure = run_with_database(body)
    if failure is None:
        fail(f"no failure {failure_id}")
    if as_json:
        print_json(failure)
        return
    print_fields([(k, failure[k]) for k in ("id", "document_id", "stage", "status", "code", "created_at")])
    typer.echo("issues:")
    for issue in failure["issues"]:
        where = _where(issue)
        typer.echo(f"  [{issue['severity']}] {issue['code']} at {where}: {issue['message']}")
