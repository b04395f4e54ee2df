"""The bus contract on the embedded bus, on a SQLite file and on PostgreSQL; plus what only it has."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update
from sqlalchemy.engine import Connection

from gateway.bus.base import HEADER_PARKED_STAGE, HEADER_REASON, Bus, BusMessage, BusSettings
from gateway.bus.embedded import TABLE, EmbeddedBus
from gateway.core.errors import ConfigError
from gateway.storage.database import Database
from gateway.storage.models import Base
from tests.bus.contract import CLOSE_TIMEOUT, SETTINGS, BusContract, BusFactory, Inbox, message

LEASE_SECONDS = 1.0


class TestEmbeddedBus(BusContract):
    @pytest.fixture
    async def bus_factory(self, database: Database, database_url: str) -> AsyncIterator[BusFactory]:
        """Each bus gets its own engine on the (migrated) test database, as a separate process would."""
        made: list[tuple[EmbeddedBus, Database]] = []

        async def make(settings: BusSettings | None = None) -> Bus:
            db = Database(database_url)
            bus = EmbeddedBus(
                db,
                settings=settings or SETTINGS,
                poll_interval=0.02,
                lease_seconds=LEASE_SECONDS,
                close_timeout=CLOSE_TIMEOUT,
            )
            made.append((bus, db))
            await bus.connect()
            return bus

        yield make
        for bus, db in made:
            await asyncio.wait_for(bus.close(), CLOSE_TIMEOUT + 8.0)
            await db.close()

    @pytest.fixture
    def child_argv(self, database_url: str) -> list[str]:
        return ["embedded", database_url, "translate", str(LEASE_SECONDS)]

    async def test_a_handler_longer_than_the_lease_keeps_its_message(self, bus_factory: BusFactory) -> None:
        """The loop renews the leases of running handlers: nobody else gets the message meanwhile."""
        first, second = await bus_factory(), await bus_factory()
        started: list[str] = []
        finished: list[str] = []

        async def slow(m: BusMessage) -> None:
            started.append(m.message_id)
            await asyncio.sleep(LEASE_SECONDS * 2.5)
            finished.append(m.message_id)

        other = Inbox()
        await first.subscribe("translate", slow)
        sent = message()
        await first.publish([sent])
        await asyncio.sleep(0.2)
        await second.subscribe("translate", other)
        await asyncio.sleep(LEASE_SECONDS * 2.5)
        await asyncio.sleep(0.3)
        assert started == finished == [sent.message_id]
        assert other.messages == []
        assert await first.depth("translate") == 0

    async def test_a_row_claimed_too_often_is_parked(self, database: Database) -> None:
        bus = EmbeddedBus(database, settings=SETTINGS, poll_interval=0.02, delivery_limit=3)
        await bus.connect()
        try:
            sent = message()
            await bus.publish([sent])
            async with database.transaction() as session:
                await session.execute(update(TABLE).values(deliveries=3))  # three crashed consumers
            handled, parked = Inbox(), Inbox()
            await bus.subscribe("translate", handled)
            await bus.subscribe("parked", parked)
            (got,) = await parked.wait(1)
            assert handled.messages == []
            assert got.message_id == sent.message_id
            assert "delivery limit" in got.headers[HEADER_REASON]
            assert got.headers[HEADER_PARKED_STAGE] == "translate"
        finally:
            await bus.close()

    async def test_connect_explains_a_missing_table(self, sqlite_url: str) -> None:
        db = Database(sqlite_url)
        try:
            with pytest.raises(ConfigError, match="migrate"):
                await EmbeddedBus(db).connect()
        finally:
            await db.close()

    async def test_migration_0002_matches_the_model(self, database: Database) -> None:
        async with database.engine.connect() as connection:

            def differences(sync_connection: Connection) -> list[Any]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return compare_metadata(context, Base.metadata)

            diff = await connection.run_sync(differences)
        assert [d for d in diff if "bus_messages" in repr(d)] == []
