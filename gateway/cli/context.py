"""Running async command bodies against the configured database, with settings read once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.settings import Settings, get_settings
from gateway.storage.database import Database

T = TypeVar("T")


def run_with_database(body: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Open the database (migrating it to the current schema first), run `body`, close."""
    settings = get_settings()

    async def main() -> T:
        database = Database(settings.resolved_database_url)
        try:
            await database.migrate()
            return await body(database, settings)
        finally:
            await database.close()

    return asyncio.run(main())
