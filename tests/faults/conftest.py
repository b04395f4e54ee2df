"""Fixtures for the fault tests: a `Rig` on a private PostgreSQL database and RabbitMQ namespace, torn
down afterwards (workers killed, namespace deleted, database dropped), with the services restored first
if a test left one down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from tests.conftest import need_service
from tests.faults.harness import BROKER_URL, Rig
from tests.faults.services import restore_services, wait_until_up

MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(postgres_url: str, tmp_path: Path) -> AsyncIterator[MakeRig]:
    broker = URL(BROKER_URL)
    need_service("RabbitMQ", broker.host or "127.0.0.1", broker.port or 5672)
    made: list[Rig] = []

    async def make(**options: Any) -> Rig:
        assert not made, "one rig per test: it owns the test's database"
        rig = Rig(tmp_path, postgres_url, f"fault-{uuid.uuid4().hex[:10]}", **options)
        made.append(rig)
        await rig.start()
        return rig

    try:
        yield make
    finally:
        restarted = restore_services()
        await wait_until_up()
        for rig in made:
            print(f"timeline of {rig.namespace}:\n{rig.report()}")
            await rig.close()
        assert not restarted, f"the test left {restarted} stopped (restarted by the fixture)"
