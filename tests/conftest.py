"""Shared fixtures: a fresh database per test on SQLite and on the real PostgreSQL server.

Each PostgreSQL test gets its own database, created and dropped here, so runs never see each other.
Where the server is down the PostgreSQL cases skip, except under ORDERGATE_REQUIRE_SERVICES=1 (CI),
where they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.storage.database import Database

POSTGRES_ADMIN_DSN = os.environ.get(
    "ORDERGATE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def services_required() -> bool:
    return os.environ.get("ORDERGATE_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if services_required():
        pytest.fail(message + " (ORDERGATE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _admin(sql: str) -> None:
    """Run one statement on the PostgreSQL maintenance database, from any thread or loop state."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg  # type: ignore[import-untyped]

    async def execute() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, execute()).result()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own on the real server, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"ordergate_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ordergate.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs twice: on a SQLite file and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at a private home folder, also exported for CLI commands run in-process."""
    home = tmp_path / "home"
    monkeypatch.setenv("ORDERGATE_HOME", str(home))
    monkeypatch.delenv("ORDERGATE_DATABASE_URL", raising=False)
    from gateway.settings import get_settings

    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
