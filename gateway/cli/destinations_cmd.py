"""`ordergate destinations add|list|route`: where routed orders are dispatched."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_json, print_table
from gateway.partners import PARTNER_ID
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Destination, PartnerRoute

app = typer.Typer(help="Destinations (warehouses, 3PLs) and partners' default routes.", no_args_is_help=True)


def destination_json(destination: Destination) -> dict[str, Any]:
    return {
        "id": destination.id,
        "kind": destination.kind,
        "url": destination.url,
        "secret_env": destination.secret_env,
        "timeout_seconds": float(destination.timeout_seconds),
    }


@app.command("add")
def add(
    destination_id: str,
    url: Annotated[str, typer.Option(help="Webhook URL the canonical order is POSTed to.")],
    secret_env: Annotated[
        str | None, typer.Option(help="Name of the environment variable holding the HMAC signing secret.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before a call counts as timed out.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add (or update) a webhook destination. The secret itself never enters the database."""
    if not PARTNER_ID.match(destination_id):
        fail("destination id must be lowercase letters, digits, '.', '_' or '-'", code=2)
    if not url.startswith(("http://", "https://")):
        fail("the URL must start with http:// or https://", code=2)

    async def body(database: Database, _: Settings) -> dict[str, Any]:
        async with database.transaction() as session:
            destination = await session.get(Destination, destination_id)
            if destination is None:
                destination = Destination(id=destination_id, kind="webhook", created_at=repo.utcnow())
                session.add(destination)
            destination.url, destination.secret_env, destination.timeout_seconds = url, secret_env, timeout  # type: ignore[assignment]
            await session.flush()
            return destination_json(destination)

    result = run_with_database(body)
    print_json(result) if as_json else typer.echo(f"destination {result['id']} → {result['url']}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List destinations and the partners routed to each."""
    from sqlalchemy import select

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            routes = (await session.scalars(select(PartnerRoute))).all()
            destinations = (await session.scalars(select(Destination).order_by(Destination.id))).all()
            return [
                destination_json(d)
                | {"partners": sorted(r.partner_id for r in routes if r.destination_id == d.id)}
                for d in destinations
            ]

    rows = run_with_database(body)
    if as_json:
        print_json({"destinations": rows})
        return
    print_table(
        ["ID", "URL", "SECRET ENV", "PARTNERS"],
        [[d["id"], d["url"], d["secret_env"], ", ".join(d["partners"])] for d in rows],
        empty="no destinations yet: ordergate destinations add ID --url URL",
    )


@app.command("route")
def route(partner_id: str, destination_id: str) -> None:
    """Make DESTINATION the default destination of PARTNER's orders."""

    async def body(database: Database, _: Settings) -> None:
        async with database.transaction() as session:
            if await repo.get_partner(session, partner_id) is None:
                fail(f"no partner {partner_id!r}")
            if await session.get(Destination, destination_id) is None:
                fail(f"no destination {destination_id!r}")
            existing = await session.get(PartnerRoute, partner_id)
            if existing is None:
                session.add(PartnerRoute(partner_id=partner_id, destination_id=destination_id))
            else:
                existing.destination_id = destination_id

    run_with_database(body)
    typer.echo(f"orders from {partner_id} go to {destination_id}")
