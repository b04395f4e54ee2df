"""`ordergate partners add|list|show`, and `ordergate partners mapping add|list|remove`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_fields, print_json, print_table
from gateway.partners import PARTNER_ID
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import PartnerMapping
from gateway.storage.repository import IdentifierSpec
from gateway.views import partner_json
from mappings.tabular import MappingFileError, load_mapping

MAPPING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

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


mapping_app = typer.Typer(
    help="Flat-file mappings (CSV, fixed-width) of a partner: how its own files become orders "
    "(docs/mapping-files.md).",
    no_args_is_help=True,
)
app.add_typer(mapping_app, name="mapping")


@mapping_app.command("add")
def mapping_add(
    partner_id: str,
    file: Annotated[
        Path, typer.Argument(help="The mapping file (TOML or JSON).", exists=True, dir_okay=False)
    ],
    name: Annotated[str | None, typer.Option(help="Name of this mapping (default: the file's stem).")] = None,
    replace: Annotated[bool, typer.Option(help="Replace a mapping of the same name.")] = False,
) -> None:
    """Attach a mapping file to a partner: its documents (inbox folder, channels, --partner) whose header
    or layout the mapping recognises are read through it."""
    try:
        mapping = load_mapping(file)
    except MappingFileError as error:
        fail(f"{file}: the mapping is not valid:\n{error}", code=2)
    label = name or file.stem
    if not MAPPING_NAME.match(label):
        fail(f"mapping name {label!r} must be letters, digits, '.', '_' or '-' (64 at most)", code=2)

    async def body(database: Database, _: Settings) -> None:
        async with database.transaction() as session:
            if await repo.get_partner(session, partner_id) is None:
                fail(f"no partner {partner_id!r}: add it first with `ordergate partners add {partner_id}`")
            existing = await session.get(PartnerMapping, (partner_id, label))
            if existing is not None and not replace:
                fail(f"partner {partner_id!r} already has a mapping {label!r}: use --replace")
            if existing is not None:
                await session.delete(existing)
                await session.flush()
            session.add(
                PartnerMapping(
                    partner_id=partner_id,
                    name=label,
                    kind=mapping.layout.kind,
                    mapping=mapping.model_dump(mode="json"),
                    created_at=repo.utcnow(),
                )
            )

    run_with_database(body)
    typer.echo(f"mapping {label} ({mapping.layout.kind}) attached to partner {partner_id}")


@mapping_app.command("list")
def mapping_list(partner_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The partner's mappings, in the order documents are offered to them."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            rows = await session.scalars(
                select(PartnerMapping)
                .where(PartnerMapping.partner_id == partner_id)
                .order_by(PartnerMapping.created_at, PartnerMapping.name)
            )
            return [
                {"name": r.name, "kind": r.kind, "title": r.mapping.get("name"), "created_at": r.created_at}
                for r in rows
            ]

    found = run_with_database(body)
    if as_json:
        print_json({"partner": partner_id, "mappings": found})
        return
    print_table(
        ["NAME", "KIND", "TITLE", "ADDED"],
        [[m["name"], m["kind"], m["title"], m["created_at"]] for m in found],
        empty=f"partner {partner_id} has no mappings: ordergate partners mapping add {partner_id} FILE",
    )


@mapping_app.command("remove")
def mapping_remove(partner_id: str, name: str) -> None:
    """Detach a mapping from a partner."""

    async def body(database: Database, _: Settings) -> bool:
        async with database.transaction() as session:
            existing = await session.get(PartnerMapping, (partner_id, name))
            if existing is None:
                return False
            await session.delete(existing)
            return True

    if not run_with_database(body):
        fail(f"partner {partner_id!r} has no mapping {name!r}")
    typer.echo(f"mapping {name} removed from partner {partner_id}")
