"""`ordergate channels add|list|test|remove`: how documents move to and from each partner.

Settings are stored with the partner; secrets are named (`--set password_secret=ACME_SFTP_PASSWORD`) and
their values live in the environment (`ORDERGATE_SECRET_ACME_SFTP_PASSWORD`) or the secrets file
(`ORDERGATE_SECRETS_FILE`), never in the database or in this command's output.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors import registry
from connectors.base import Check
from gateway.channels import (
    build_connector,
    channel_json,
    get_channel,
    list_channels,
    save_channel,
)
from gateway.cli.context import run_with_database
from gateway.cli.output import fail, print_json, print_table
from gateway.core.errors import GatewayError
from gateway.settings import Settings
from gateway.storage.database import Database
from gateway.storage.models import PartnerChannel

app = typer.Typer(
    help="Partners' channels: SFTP, folders … with secrets referenced by name.", no_args_is_help=True
)


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """`key=value` pairs; a value starting with `[` or `{` is read as JSON (lists such as patterns)."""
    settings: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            fail(f"--set takes KEY=VALUE, got {assignment.split('=')[0]!r}", code=2)
        if value.startswith(("[", "{")):
            try:
                settings[key.strip()] = json.loads(value)
                continue
            except json.JSONDecodeError as error:
                fail(f"--set {key.strip()}: not valid JSON ({error.msg} at column {error.colno})", code=2)
        settings[key.strip()] = value
    return settings


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}", code=2)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        fail(f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {error}", code=2)
    if not isinstance(data, dict):
        fail(f"{path} must hold one table/object of settings", code=2)
    return data


@app.command("add")
def add(
    partner_id: Annotated[str, typer.Argument(help="The partner the channel belongs to.")],
    name: Annotated[str, typer.Argument(help="Channel name: lowercase letters, digits, _ -")],
    kind: Annotated[str, typer.Option(help=f"Connector kind: {', '.join(registry.kinds())}.")],
    direction: Annotated[str, typer.Option(help="inbound, outbound or both.")] = "inbound",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="A setting as KEY=VALUE (repeatable).")
    ] = None,
    settings_file: Annotated[
        Path | None, typer.Option(help="Settings as a TOML or JSON file; --set overrides its keys.")
    ] = None,
    poll_seconds: Annotated[
        float | None, typer.Option(help="Seconds between polls (default: the kind's).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it without polling it yet.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a channel of that name.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a channel to a partner (or change it, with --replace)."""
    settings = read_settings_file(settings_file) if settings_file else {}
    settings.update(parse_assignments(set_ or []))

    async def body(database: Database, _: Settings) -> dict[str, Any]:
        try:
            async with database.transaction() as session:
                row = await save_channel(
                    session,
                    partner_id,
                    name,
                    kind=kind,
                    direction=direction,
                    settings=settings,
                    poll_seconds=poll_seconds,
                    enabled=not disabled,
                    replace=replace,
                )
                return channel_json(row)
        except GatewayError as error:
            fail(error.message, code=1)

    channel = run_with_database(body)
    if as_json:
        print_json(channel)
        return
    typer.echo(
        f"channel {channel['partner']}/{channel['name']}: {channel['kind']}, {channel['direction']}, "
        f"{'enabled' if channel['enabled'] else 'disabled'}, {_arrival(channel)}"
    )
    for key, value in sorted(channel["settings"].items()):
        note = "  (secret name)" if key in channel["secrets"] else ""
        typer.echo(f"  {key} = {value}{note}")
    typer.echo(f"check it with: ordergate channels test {channel['partner']} {channel['name']}")


@app.command("list")
def list_(
    partner_id: Annotated[str | None, typer.Argument(help="Only this partner's channels.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List channels, with the secrets they name and the last poll's outcome."""

    async def body(database: Database, _: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            return [channel_json(row) for row in await list_channels(session, partner_id)]

    channels = run_with_database(body)
    if as_json:
        print_json({"channels": channels})
        return
    print_table(
        ["PARTNER", "CHANNEL", "KIND", "DIRECTION", "ENABLED", "EVERY", "SECRETS", "LAST POLL"],
        [
            [
                c["partner"],
                c["name"],
                c["kind"],
                c["direction"],
                "yes" if c["enabled"] else "no",
                f"{c['poll_seconds']:g}s" if _polled(c) else "pushed",
                ", ".join(sorted(c["secrets"].values())),
                _last_poll(c["last_poll"]),
            ]
            for c in channels
        ],
        empty="no channels yet: ordergate channels add PARTNER NAME --kind sftp --set host=… …",
    )


def _polled(channel: dict[str, Any]) -> bool:
    try:
        return registry.get(channel["kind"]).poll and channel["direction"] != "outbound"
    except GatewayError:
        return False


def _arrival(channel: dict[str, Any]) -> str:
    """How documents come in on this channel: polled at an interval, or posted by the sender."""
    if _polled(channel):
        return f"polled every {channel['poll_seconds']:g}s"
    try:
        spec = registry.get(channel["kind"])
    except GatewayError:
        return "unknown kind"
    if spec.push and channel["direction"] != "outbound":
        return f"the sender posts to {spec.push_route}/{channel['partner']}/{channel['name']}"
    return "outbound only"


def _last_poll(last: dict[str, Any]) -> str:
    if last["at"] is None:
        return "never"
    return f"{last['at'][:19].replace('T', ' ')} {'ok' if last['ok'] else 'FAILED'}: {last['detail']}"


@app.command("test")
def test(
    partner_id: Annotated[str, typer.Argument(help="The partner whose channels to try.")],
    name: Annotated[str | None, typer.Argument(help="Only this channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Connect to each channel and say plainly what works: reach, host key, login, folders."""

    async def body(database: Database, settings: Settings) -> list[dict[str, Any]]:
        async with database.session() as session:
            if name is not None:
                row = await get_channel(session, partner_id, name)
                rows = [row] if row is not None else []
            else:
                rows = list(await list_channels(session, partner_id))
        if not rows:
            fail(f"partner {partner_id!r} has no channel{f' {name!r}' if name else 's'}", code=1)
        report = []
        for row in rows:
            checks = await _checks(row, settings.max_document_bytes)
            report.append({"partner": row.partner_id, "name": row.name, "kind": row.kind, "checks": checks})
        return report

    report = run_with_database(body)
    passed = all(check["ok"] for channel in report for check in channel["checks"])
    if as_json:
        print_json({"ok": passed, "channels": report})
    else:
        for channel in report:
            typer.echo(f"{channel['partner']}/{channel['name']} ({channel['kind']})")
            for check in channel["checks"]:
                typer.echo(f"  {'ok  ' if check['ok'] else 'FAIL'}  {check['name']:<16} {check['detail']}")
    raise typer.Exit(0 if passed else 1)


async def _checks(row: PartnerChannel, max_document_bytes: int) -> list[dict[str, Any]]:
    try:
        connector = build_connector(row, max_document_bytes=max_document_bytes)
    except GatewayError as error:
        return [{"name": "settings", "ok": False, "detail": error.message}]
    try:
        checks: list[Check] = list(await connector.check())
    except GatewayError as error:  # check() should report, not raise; still never a traceback
        checks = [Check("connect", False, error.message)]
    finally:
        await connector.aclose()
    return [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]


@app.command("remove")
def remove(partner_id: str, name: str) -> None:
    """Remove a channel; `ordergate serve` stops polling it within its refresh interval."""

    async def body(database: Database, _: Settings) -> bool:
        async with database.transaction() as session:
            row = await get_channel(session, partner_id, name)
            if row is None:
                return False
            await session.delete(row)
            return True

    if not run_with_database(body):
        fail(f"partner {partner_id!r} has no channel {name!r}", code=1)
    typer.echo(f"channel {partner_id}/{name} removed")
