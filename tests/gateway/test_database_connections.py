"""Pooled PostgreSQL connections that died while idle (a database restart, a cut connection) are
replaced before use, without a ping before every transaction (`gateway/storage/database.py`)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from gateway.storage import database as database_module
from gateway.storage.database import Database

pytestmark = pytest.mark.postgres


async def _backend_pid(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(admin: Database, pid: int) -> None:
    async with admin.transaction() as session:
        assert (await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar()


async def test_a_connection_killed_while_idle_is_replaced_before_use(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    db, admin = Database(postgres_url), Database(postgres_url)
    try:
        dead = await _backend_pid(db)
        await _terminate(admin, dead)
        await asyncio.sleep(0.2)  # idle past the threshold: checked before the next use
        assert await _backend_pid(db) != dead
    finally:
        await db.close()
        await admin.close()


async def test_a_connection_in_constant_use_is_not_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the trade: within the idle threshold a connection is used unchecked, so one
    killed in that window fails the transaction that takes it (and the pool is renewed after it)."""
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 60.0)
    db, admin = Database(postgres_url), Database(postgres_url)
    try:
        dead = await _backend_pid(db)
        await _terminate(admin, dead)
        await asyncio.sleep(0.2)
        with pytest.raises(Exception, match=r"(?i)connection|terminat"):
            await _backend_pid(db)
        assert await _backend_pid(db) != dead
    finally:
        await db.close()
        await admin.close()
