"""`ordergate partners add|list|show`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_fields, print_json, print_table
from gateway.partners import PARTNER_ID
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.repository import IdentifierSpec
from gateway.views import partner_json

app = typer.Typer(help="Trading partners and the identifiers their envelopes carry.", no_args_is_help=True)


def parse_edifact(value: str) -> IdentifierSpec:
    """UNB order: `ID:QUALIFIER` (e.g. 5412345000176:14), qualifier optional."""
    ident, _, qualifier = value.partition(":")
    return IdentifierSpec("edifact", qualifier.strip(), ident.strip())


def parse_x12(value: str) -> IdentifierSpec:
    """ISA order: `QUALIFIER:ID` (e.g. ZZ:ACMEX12), or a bare id matching any qualifier."""
    qualifier, sep, ident = value.partition(":")
    return (
        IdentifierSpec("x12", qualifier.strip(), ident.strip())
        if sep
        else IdentifierSpec("x12", "", qualifier)
    )


@app.command("add")
def add(
    partner_id: Annotated[str, typer.Argument(help="Short id: lowercase letters, digits, . _ -")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    edifact: Annotated[
        list[str] | None, typer.Option(help="UNB sender id, as ID:QUALIFIER (repeatable).")
    ] = None,
    x12: Annotated[list[str] | None, typer.Option(help="ISA sender, as QUALIFIER:ID (repeatable).")] = None,
    gln: Annotated[
        list[str] | None, typer.Option(help="GLN, matched under either standard (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a partner, or add identifiers to an existing one."""
    if not PARTNER_ID.match(partner_id):
        fail(f"partner id {partner_id!r} must be lowercase letters, digits, '.', '_' or '-'", code=2)
    specs = [parse_edifact(v) for v in edifact or []] + [parse_x12(v) for v in x12 or []]
    specs += [IdentifierSpec("gln", "", v.strip()) for v in gln or []]
    if any(not s.value for s in specs):
        fail("an identifier value is empty", code=2)

    async def body(database: Database, settings: Settings) -> dict[str, Any]:
        async with database.transaction() as session:
            for spec in specs:
                owner = await repo.find_identifier(session, spec)
                if owner is not None and owner.qualifier == spec.qualifier and owner.partner_id != partner_id:
                    fail(f"identifier {spec} already belongs to partner {owner.partner_id!r}", code=1)
            partner = await repo.upsert_partner(session, partner_id, name=name, identifiers=specs)
            (settings.inbox_root / partner_id).mkdir(parents=True, exist_ok=True)
            return partner_json(partner)

    result = run_with_database(body)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"partner {result['id']} ({result['name']})")
        for ident in result["identifiers"]:
            qualifier = f" qualifier {ident['qualifier']}" if ident["qualifier"] else ""
            typer.echo(f"  {ident['standard']:<8} {ident['value']}{qualifier}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List partners."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            return [partner_json(p) for p in await repo.list_partners(session)]

    partners = run_with_database(body)
    if as_json:
        print_json({"partners": partners})
        return
    print_table(
        ["ID", "NAME", "IDENTIFIERS"],
        [
            [
                p["id"],
                p["name"],
                ", ".join(
                    f"{i['standard']} {i['value']}" + (f" ({i['qualifier']})" if i["qualifier"] else "")
                    for i in p["identifiers"]
                ),
            ]
            for p in partners
        ],
        empty="no partners yet: ordergate partners add ID --edifact ID:QUALIFIER | --x12 QUALIFIER:ID",
    )


@app.command("show")
def show(partner_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one partner."""

    async def body(database: Database, _: Settings) -> dict[str, Any] | None:
        async with database.session() as session:
            partner = await repo.get_partner(session, partner_id)
            return partner_json(partner) if partner else None

    partner = run_with_database(body)
    if partner is None:
        fail(f"no partner {partner_id!r}", code=1)
    if as_json:
        print_json(partner)
        return
    print_fields([("id", partner["id"]), ("name", partner["name"]), ("created", partner["created_at"])])
    for ident in partner["identifiers"]:
        qualifier = f" qualifier {ident['qualifier']}" if ident["qualifier"] else ""
        typer.echo(f"  {ident['standard']:<8} {ident['value']}{qualifier}")
