"""Where a polled marketplace channel stands in the order stream, and where that is kept.

The cursor is a time (`at`: every order last updated before it, less the overlap, has been taken) and
the orders already taken near it (`seen`: `(order id, updated time)` from `at - overlap` to `at`). A
poll asks for orders updated since `at - overlap` and offers only those not `seen`: orders sharing a
timestamp are neither lost nor repeated, whatever order the API lists them in, and an order stamped a
little before it became visible is still found. An order updated again has a new time, so it is
offered again (the marketplace's update).

The cursor lives in a `StateStore` under the channel's key. `FileStateStore` (JSON files, written
atomically) is the interim home until the channel table has a state column; the interface is two
methods so that column can replace it without touching the connectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from gateway.core.errors import ConfigError, StorageError

log = logging.getLogger("ordergate.connectors.marketplaces")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as the APIs write it (`Z`, an offset, or none = UTC, as WooCommerce's *_gmt),
    in UTC; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Cursor:
    at: datetime
    seen: frozenset[tuple[str, datetime]] = frozenset()

    def wants(self, order_id: str, updated: datetime, overlap: timedelta) -> bool:
        """True for an order version this channel has not taken yet."""
        return updated >= self.at - overlap and (order_id, updated) not in self.seen

    def advance(self, order_id: str, updated: datetime, overlap: timedelta) -> Cursor:
        """The cursor once this order version is taken (versions are taken in time order)."""
        at = max(self.at, updated)
        return Cursor(at, self._kept(self.seen | {(order_id, updated)}, at - overlap))

    def reach(self, at: datetime, overlap: timedelta) -> Cursor:
        """The cursor once everything up to `at` is known taken (an Amazon time window read whole)."""
        if at <= self.at:
            return self
        return Cursor(at, self._kept(self.seen, at - overlap))

    @staticmethod
    def _kept(seen: frozenset[tuple[str, datetime]], floor: datetime) -> frozenset[tuple[str, datetime]]:
        return frozenset(entry for entry in seen if entry[1] >= floor)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "seen": sorted([order_id, format_time(updated)] for order_id, updated in self.seen),
        }

    @classmethod
    def from_json(cls, data: Any) -> Cursor | None:
        """None when `data` is not a cursor this module wrote (the channel then starts afresh)."""
        if not isinstance(data, Mapping):
            return None
        at = parse_time(data.get("at"))
        raw = data.get("seen", [])
        if at is None or not isinstance(raw, list):
            return None
        seen = set()
        for entry in raw:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                return None
            updated = parse_time(entry[1])
            if updated is None:
                return None
            seen.add((entry[0], updated))
        return cls(at, frozenset(seen))


class StateStore(Protocol):
    """A channel's small persistent state, by key. `save` returns once the state is durable."""

    async def load(self, key: str) -> dict[str, Any] | None: ...

    async def save(self, key: str, state: Mapping[str, Any]) -> None: ...


class MemoryStateStore:
    """State kept in this object only (tests, and a restart that may re-read since `since`)."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    async def load(self, key: str) -> dict[str, Any] | None:
        state = self.states.get(key)
        return json.loads(json.dumps(state)) if state is not None else None

    async def save(self, key: str, state: Mapping[str, Any]) -> None:
        self.states[key] = json.loads(json.dumps(state))


_KEY = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,127}$")


class FileStateStore:
    """One JSON file per key in `folder`, replaced atomically (temporary file, fsync, rename), so a
    crash leaves the old state or the new one, never half of one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.folder)!r})"

    def path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ConfigError(f"{key!r} cannot name a state file", code="BAD_STATE_KEY")
        return self.folder / f"{key}.json"

    async def load(self, key: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._load, self.path(key))

    @staticmethod
    def _load(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"the channel state {path} cannot be read ({error}); move it aside to start the channel "
                "afresh from its `since` setting",
                code="CHANNEL_STATE_UNREADABLE",
            ) from None
        return data if isinstance(data, dict) else None

    async def save(self, key: str, state: Mapping[str, Any]) -> None:
        path = self.path(key)
        try:
            await asyncio.to_thread(self._save, path, json.dumps(state, indent=1, sort_keys=True))
        except OSError as error:
            raise StorageError(
                f"the channel state {path} cannot be written: {error.strerror or error}",
                code="CHANNEL_STATE_UNWRITABLE",
            ) from None

    @staticmethod
    def _save(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def default_store() -> StateStore:
    """The interim store: `<ORDERGATE_HOME>/state/channels/`. Read when first used, not at import."""
    from gateway.settings import get_settings  # the connector package stays free of gateway settings

    return FileStateStore(get_settings().home / "state" / "channels")


__all__ = [
    "Cursor",
    "FileStateStore",
    "MemoryStateStore",
    "StateStore",
    "default_store",
    "format_time",
    "parse_time",
]
