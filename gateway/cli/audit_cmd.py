"""`ordergate audit list`: the append-only audit log of what operations did, newest first.

The view and the query live in `gateway.audit`, shared with `partner_portal.routes.audit` (`GET
/api/audit`), so the command's `--json` and the API answer with the same shape.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.audit import AuditList, AuditView, list_audit
from gateway.cli.context import run_with_database
from gateway.cli.output import print_json, print_table
from gateway.settings import Settings
from gateway.storage.database import Database

app = typer.Typer(help="The audit log: who did what to which record, when and why.", no_args_is_help=True)


@app.callback()
def audit() -> None:
    """The audit log: who did what to which record, when and why (append-only)."""


@app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List the audit log, newest first."""

    async def body(database: Database, _: Settings) -> list[AuditView]:
        async with database.session() as session:
            return await list_audit(session, limit=limit)

    entries = run_with_database(body)
    if as_json:
        print_json(AuditList(entries=entries).model_dump(mode="json"))
        return
    print_table(
        ["AT", "ACTOR", "ACTION", "TARGET", "REASON", "DETAIL"],
        [
            [
                e.at,
                e.actor,
                e.action,
                e.target,
                e.reason,
                " ".join(f"{k}={v}" for k, v in e.detail.items()) or None,
            ]
            for e in entries
        ],
        empty="the audit log is empty",
    )
