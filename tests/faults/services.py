"""Stopping and starting the machine's shared RabbitMQ and PostgreSQL for an outage, and making sure
they are back. Other people's tests use these services too: every outage is short, restored in a
`finally`, and verified before the test goes on; the fixtures check once more after each test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.conftest import POSTGRES_ADMIN_DSN, services_required
from tests.faults.harness import BROKER_URL, Rig, eventually, run_command

POSTGRES_CLUSTERS = Path("/etc/postgresql")


def _postgres_version() -> str | None:
    versions = sorted(POSTGRES_CLUSTERS.iterdir()) if POSTGRES_CLUSTERS.is_dir() else []
    return versions[0].name if versions else None


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def need_control(tool: str) -> None:
    """The outage scenarios stop a service: they need its control tool and root."""
    problem = None
    if shutil.which(tool) is None:
        problem = f"{tool} is not installed"
    elif os.geteuid() != 0:
        problem = f"{tool} needs root to stop and start the service"
    elif tool == "pg_ctlcluster" and _postgres_version() is None:
        problem = "no PostgreSQL cluster under /etc/postgresql"
    if problem:
        if services_required():
            pytest.fail(problem + " (ORDERGATE_REQUIRE_SERVICES=1)")
        pytest.skip(problem)


def _pg_ctl(action: str) -> list[str]:
    return ["pg_ctlcluster", "--skip-systemctl-redirect", str(_postgres_version()), "main", action]


async def rabbitmq_up() -> bool:
    connection = await aio_pika.connect(BROKER_URL, timeout=3)
    await connection.close()
    return True


async def postgres_up() -> bool:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    await connection.close()
    return True


@contextlib.asynccontextmanager
async def rabbitmq_stopped(rig: Rig) -> AsyncIterator[None]:
    """The broker's application stopped (`rabbitmqctl stop_app`) for the body, then started again."""
    need_control("rabbitmqctl")
    await run_command("rabbitmqctl", "stop_app", timeout=60)
    rig.note("RabbitMQ stopped (rabbitmqctl stop_app)")
    try:
        yield
    finally:
        begun = time.monotonic()
        await run_command("rabbitmqctl", "start_app", timeout=120)
        await eventually(rabbitmq_up, 60, "RabbitMQ accepting connections again")
        rig.note(f"RabbitMQ started again (start_app took {time.monotonic() - begun:.1f} s)")


@contextlib.asynccontextmanager
async def postgres_stopped(rig: Rig) -> AsyncIterator[None]:
    """The PostgreSQL cluster stopped (fast shutdown: sessions are cut) for the body, then started."""
    need_control("pg_ctlcluster")
    await run_command(*_pg_ctl("stop"), timeout=60)
    rig.note("PostgreSQL stopped (pg_ctlcluster stop)")
    try:
        yield
    finally:
        begun = time.monotonic()
        await run_command(*_pg_ctl("start"), timeout=120)
        await eventually(postgres_up, 60, "PostgreSQL accepting connections again")
        rig.note(f"PostgreSQL started again (start took {time.monotonic() - begun:.1f} s)")


def restore_services() -> list[str]:
    """Last guard after each fault test (synchronous, whatever state the test left): start whichever
    service is down. Returns what it had to restart."""
    restarted = []
    if not _port_open(5672) and shutil.which("rabbitmqctl") and os.geteuid() == 0:
        subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, timeout=120, check=False)
        restarted.append("rabbitmq")
    if not _port_open(5432) and _postgres_version() and os.geteuid() == 0:
        subprocess.run(_pg_ctl("start"), capture_output=True, timeout=120, check=False)
        restarted.append("postgresql")
    deadline = time.monotonic() + 60
    while restarted and not (_port_open(5672) and _port_open(5432)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return restarted


async def wait_until_up() -> None:
    await asyncio.gather(
        eventually(rabbitmq_up, 60, "RabbitMQ up"), eventually(postgres_up, 60, "PostgreSQL up")
    )
