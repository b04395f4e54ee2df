"""Time-bounded checks: readiness (database and bus answer) and a helper that never waits past its limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger("ordergate.health")

T = TypeVar("T")

READY_TIMEOUT = 2.0
"""Seconds each readiness check may take before it counts as failed."""


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # mark it retrieved: no "exception was never retrieved" warning


async def bounded(awaitable: Awaitable[T], timeout: float) -> T:
    """Await `awaitable` for at most `timeout` seconds, then raise TimeoutError.

    Unlike `asyncio.wait_for`, this returns on time even if the awaitable is slow to honour its
    cancellation (a stuck driver call): it is cancelled and left to finish on its own.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_retrieve)
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_retrieve)
        raise TimeoutError(f"no answer within {timeout:g}s")
    return task.result()


def describe_failure(error: BaseException, timeout: float) -> str:
    """A short, safe description for a probe response: the error's type, never its message (which may
    carry host names or credentials); the detail goes to the log."""
    if isinstance(error, TimeoutError):
        return f"timeout after {timeout:g}s"
    return type(error).__name__


async def _check(name: str, ping: Callable[[], Awaitable[None]] | None, timeout: float) -> str:
    if ping is None:
        return "not started"
    try:
        await bounded(ping(), timeout)
    except Exception as error:  # any failure means "not ready": reported, never raised
        log.warning("readiness: %s check failed: %s: %s", name, type(error).__name__, error)
        return describe_failure(error, timeout)
    return "ok"


async def readiness(
    database: Any, bus: Any, *, timeout: float = READY_TIMEOUT
) -> tuple[bool, dict[str, Any]]:
    """Ping the database and the bus concurrently, each within `timeout`. Returns (ready, body) where the
    body names each component's state and, when not ready, lists the failed ones. Never raises."""
    names = ("database", "bus")
    pings = [getattr(component, "ping", None) for component in (database, bus)]
    try:
        states = await asyncio.gather(*(_check(n, p, timeout) for n, p in zip(names, pings, strict=True)))
    except Exception as error:  # defensive: _check does not raise
        log.warning("readiness check failed: %s: %s", type(error).__name__, error)
        states = [type(error).__name__] * len(names)
    body: dict[str, Any] = dict(zip(names, states, strict=True))
    failed = [n for n, s in body.items() if s != "ok"]
    if failed:
        return False, {"status": "unavailable", **body, "failed": failed}
    return True, {"status": "ok", **body}


__all__ = ["READY_TIMEOUT", "bounded", "describe_failure", "readiness"]
