"""Channels stored with the partner (SQLite and PostgreSQL), and SFTP through the real ingest path:
archive first, then release; a failed archive or a crash leaves the remote file; oversized files get
a stored failure; `ordergate serve` polls every enabled channel and one failing channel stops no other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from connectors.base import InboundConnector
from gateway.channels import build_connector, get_channel, list_channels, save_channel
from gateway.core.errors import ConfigError
from gateway.inbox import drain_once
from gateway.ingest import Ingestor, IngestResult
from gateway.service import GatewayService
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database, alembic_config, upgrade
from gateway.storage.repository import IdentifierSpec
from tests.connectors.conftest import DictSecrets
from tests.connectors.sftp_server import PASSWORD, SftpServer
from tests.connectors.test_sftp import free_port

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EDIFACT = (FIXTURES / "orders_d96a_basic.edi").read_bytes()


async def add_hexa(database: Database) -> None:
    async with database.transaction() as session:
        await repo.upsert_partner(
            session, "hexa", name="Hexa", identifiers=[IdentifierSpec("edifact", "14", "5412345000013")]
        )


async def add_channel(database: Database, name: str, settings: dict[str, Any], **options: Any) -> None:
    async with database.transaction() as session:
        await save_channel(
            session, "hexa", name, kind="sftp", direction="inbound", settings=settings, **options
        )


async def connector_for(database: Database, name: str, secrets: DictSecrets) -> InboundConnector:
    async with database.session() as session:
        row = await get_channel(session, "hexa", name)
    assert row is not None
    connector = build_connector(row, max_document_bytes=1000, secrets=secrets)
    assert isinstance(connector, InboundConnector)
    return connector


async def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# Stored configuration ------------------------------------------------------------------------------


async def test_channels_are_stored_with_secret_names_only(
    database: Database, sftp_server: SftpServer
) -> None:
    await add_hexa(database)
    await add_channel(database, "sftp-in", sftp_server.channel_settings(), poll_seconds=30)
    async with database.session() as session:
        (row,) = await list_channels(session, "hexa", enabled_inbound=True)
        raw = (await session.execute(text("SELECT settings FROM partner_channels"))).scalar_one()
    assert (row.kind, row.direction, row.enabled, row.poll_seconds) == ("sftp", "inbound", True, 30.0)
    stored = raw if isinstance(raw, dict) else json.loads(raw)
    assert stored["password_secret"] == "ACME_SFTP_PASSWORD"
    assert PASSWORD not in json.dumps(stored)


async def test_a_channel_is_validated_before_it_is_stored(
    database: Database, sftp_server: SftpServer
) -> None:
    await add_hexa(database)
    settings = sftp_server.channel_settings()
    with pytest.raises(ConfigError, match=r"password: unknown setting .*password_secret=NAME"):
        await add_channel(database, "bad", settings | {"password": "clear-text-pw"})
    with pytest.raises(ConfigError, match="can be inbound, outbound, both, not sideways"):
        async with database.transaction() as session:
            await save_channel(session, "hexa", "x", kind="sftp", direction="sideways", settings=settings)
    with pytest.raises(ConfigError, match="did you mean 'sftp'"):
        async with database.transaction() as session:
            await save_channel(session, "hexa", "x", kind="stfp", direction="inbound", settings=settings)
    with pytest.raises(ConfigError, match="no partner 'nobody'"):
        async with database.transaction() as session:
            await save_channel(session, "nobody", "x", kind="sftp", direction="inbound", settings=settings)
    await add_channel(database, "sftp-in", settings)
    with pytest.raises(ConfigError, match="--replace"):
        await add_channel(database, "sftp-in", settings)
    await add_channel(database, "sftp-in", settings | {"folder": "other"}, replace=True, enabled=False)
    async with database.session() as session:
        assert await list_channels(session, enabled_inbound=True) == []
        row = await get_channel(session, "hexa", "sftp-in")
    assert row is not None and row.settings["folder"] == "other"


def test_migration_0004_downgrades_and_upgrades(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0003")
    upgrade(url)


# Through ingest: archive first, then release ---------------------------------------------------------


async def test_sftp_file_becomes_an_order_then_moves(
    database: Database, sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    await add_hexa(database)
    await add_channel(database, "sftp-in", sftp_server.channel_settings())
    connector = await connector_for(database, "sftp-in", secrets)
    (sftp_server.root / "in" / "po.edi").write_bytes(EDIFACT)
    try:
        assert await drain_once(connector, Ingestor(database)) == []  # first look: size not yet stable
        (result,) = await drain_once(connector, Ingestor(database))
    finally:
        await connector.aclose()
    assert result.status == "accepted", result.errors
    assert [p.name for p in (sftp_server.root / "in" / "processed").iterdir()] == [
        f"{result.document_id}-po.edi"
    ]
    assert not (sftp_server.root / "in" / "po.edi").exists()
    async with database.session() as session:
        document = await repo.get_document(session, result.document_id)
        (order,) = await repo.list_orders(session, document_id=result.document_id)
    assert document is not None and (document.channel, document.filename) == ("sftp-in", "po.edi")
    assert order.order_number == "PO-4711" and order.partner_id == "hexa"


class FailingArchive:
    """A receiver whose archive commit fails (database gone)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def receive(self, raw: bytes, **_: Any) -> IngestResult:
        raise ConnectionError("database unavailable")


async def test_a_failed_archive_or_a_crash_leaves_the_remote_file(
    database: Database, sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    await add_hexa(database)
    await add_channel(database, "sftp-in", sftp_server.channel_settings(readiness="rename"))
    inbox = sftp_server.root / "in"
    (inbox / "po.edi").write_bytes(EDIFACT)

    connector = await connector_for(database, "sftp-in", secrets)
    with pytest.raises(ConnectionError):
        await drain_once(connector, FailingArchive(database))
    assert (inbox / "po.edi").read_bytes() == EDIFACT and not (inbox / "processed").exists()

    # A crash after the archive commit but before the release: the process dies, the file stays …
    (item,) = await connector.poll()
    first = await Ingestor(database).receive(item.payload, channel=item.channel, partner_id=item.partner_id)
    await connector.aclose()
    assert first.status == "accepted" and (inbox / "po.edi").exists()

    # … and after the restart it is taken again, recognised as the same bytes, and released.
    restarted = await connector_for(database, "sftp-in", secrets)
    try:
        (second,) = await drain_once(restarted, Ingestor(database))
    finally:
        await restarted.aclose()
    assert second.status == "failed" and second.errors[0].code == "DUPLICATE_DOCUMENT"
    assert not (inbox / "po.edi").exists()
    assert [p.name for p in (inbox / "failed").iterdir()] == [f"{second.document_id}-po.edi"]
    async with database.session() as session:
        assert await repo.count_orders(session) == 1  # nothing lost, nothing twice


async def test_an_oversized_file_gets_a_stored_failure_and_moves_to_failed(
    database: Database, sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    await add_hexa(database)
    await add_channel(database, "sftp-in", sftp_server.channel_settings(readiness="rename"))
    (sftp_server.root / "in" / "huge.edi").write_bytes(b"x" * 1001)
    connector = await connector_for(database, "sftp-in", secrets)
    try:
        (result,) = await drain_once(connector, Ingestor(database))
    finally:
        await connector.aclose()
    assert result.status == "failed" and result.errors[0].code == "DOCUMENT_TOO_LARGE"
    async with database.session() as session:
        (failure,) = await repo.list_failures(session, document_id=result.document_id)
        document = await repo.get_document(session, result.document_id)
    assert failure.code == "DOCUMENT_TOO_LARGE" and "1001 bytes" in failure.reason
    assert document is not None and (document.status, document.filename, document.size) == (
        "failed",
        "huge.edi",
        0,
    )
    assert [p.name for p in (sftp_server.root / "in" / "failed").iterdir()] == [
        f"{result.document_id}-huge.edi"
    ]
    assert not [e for e in sftp_server.log.events if e[0].startswith("open")]  # listed, never downloaded


# ordergate serve --------------------------------------------------------------------------------------


async def test_serve_polls_every_channel_and_a_failing_one_stops_no_other(
    settings: Settings, sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERGATE_SECRET_ACME_SFTP_PASSWORD", PASSWORD)
    fast = settings.model_copy(update={"inbox_poll_seconds": 0.05, "verdict_wait_seconds": 5.0})
    database = Database(fast.resolved_database_url)
    await database.migrate()
    await add_hexa(database)
    broken = sftp_server.channel_settings(port=free_port())
    await add_channel(database, "down", broken, poll_seconds=0.1)
    await add_channel(database, "sftp-in", sftp_server.channel_settings(), poll_seconds=0.1)
    await database.close()

    service = GatewayService.for_serve(fast)
    await service.start()
    try:
        (sftp_server.root / "in" / "po.edi").write_bytes(EDIFACT)
        processed = sftp_server.root / "in" / "processed"
        await wait_for(lambda: processed.is_dir() and any(processed.iterdir()))
        async with service.database.session() as session:
            orders = await repo.list_orders(session)
            channels = {c.name: c for c in await list_channels(session, "hexa")}
    finally:
        await service.stop()
    assert [o.order_number for o in orders] == ["PO-4711"]
    assert [p.name for p in processed.iterdir()] == [f"{orders[0].document_id}-po.edi"]
    down = channels["down"]
    assert down.last_poll_ok is False and "connection refused" in (down.last_poll_detail or "")
    assert channels["sftp-in"].last_poll_ok is True
