"""Partners' channels: stored configuration (no secret values), the secrets it names, and connectors
built from both.

Secrets are resolved when a connector uses them, from `ORDERGATE_SECRET_<NAME>` in the environment,
else from the file `ORDERGATE_SECRETS_FILE` (TOML `NAME = "value"`, or `.env` lines `NAME=value`). The
file must not be readable by other users: a secret readable by anyone on the machine is refused rather
than used. Values are `SecretStr`; only their names reach logs, errors and the CLI.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors import registry
from connectors.base import SECRET_NAME_PATTERN, ChannelContext, Connector, Direction, SecretSource
from gateway.core.errors import ConfigError
from gateway.storage import repository as repo
from gateway.storage.models import PartnerChannel

CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
SECRET_ENV_PREFIX = "ORDERGATE_SECRET_"
SECRETS_FILE_ENV = "ORDERGATE_SECRETS_FILE"
DIRECTIONS: tuple[Direction, ...] = ("inbound", "outbound", "both")
_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


# Secrets --------------------------------------------------------------------------------------------


class MissingSecret(ConfigError):
    code = "MISSING_SECRET"


class Secrets:
    """Looks each secret up when asked, so a rotated value is used from the next connection on."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def __repr__(self) -> str:
        return "Secrets(environment and ORDERGATE_SECRETS_FILE)"

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def get(self, name: str) -> SecretStr:
        if not _SECRET_NAME.match(name):
            raise ConfigError(f"{name!r} is not a secret name (A-Z, 0-9, _)", code="BAD_SECRET_NAME")
        value = self.environ.get(SECRET_ENV_PREFIX + name)
        if value is None:
            value = self._from_file(name)
        if value is None:
            where = (
                f" or add it to {self.environ[SECRETS_FILE_ENV]}"
                if self.environ.get(SECRETS_FILE_ENV)
                else ""
            )
            raise MissingSecret(
                f"secret {name} is not set: export {SECRET_ENV_PREFIX}{name}{where} "
                f"(or point {SECRETS_FILE_ENV} at a file that defines it)"
            )
        return SecretStr(value)

    def _from_file(self, name: str) -> str | None:
        location = self.environ.get(SECRETS_FILE_ENV)
        return read_secrets_file(Path(location)).get(name) if location else None


def read_secrets_file(path: Path) -> dict[str, str]:
    """The file's secrets; refuses a file other users can read, and says how to fix it."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"secrets file {path} cannot be read: {error.strerror or error}", code="SECRETS_FILE"
        ) from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise ConfigError(
            f"secrets file {path} is readable or writable by other users (mode {stat.filemode(mode)}); "
            f"restrict it with `chmod 600 {path}`",
            code="SECRETS_FILE_PERMISSIONS",
        )
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            # The decoder's message gives line and column, never the value.
            raise ConfigError(f"secrets file {path}: {error}", code="SECRETS_FILE") from None
    else:
        data = dict(dotenv_values(path))
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


# Stored configuration -------------------------------------------------------------------------------


def validate(kind: str, direction: str, settings: Mapping[str, Any], poll_seconds: float | None) -> float:
    """Check a channel before it is stored; returns its poll interval (the kind's default if unset)."""
    spec = registry.get(kind)
    if direction not in spec.directions():
        raise ConfigError(
            f"a {kind} channel can be {', '.join(spec.directions())}, not {direction}", code="BAD_DIRECTION"
        )
    registry.parse_settings(kind, settings)
    interval = spec.default_poll_seconds if poll_seconds is None else poll_seconds
    if interval <= 0:
        raise ConfigError("the poll interval must be positive", code="BAD_POLL_INTERVAL")
    return interval


async def save_channel(
    session: AsyncSession,
    partner_id: str,
    name: str,
    *,
    kind: str,
    direction: str,
    settings: Mapping[str, Any],
    poll_seconds: float | None = None,
    enabled: bool = True,
    replace: bool = False,
) -> PartnerChannel:
    if not CHANNEL_NAME.match(name):
        raise ConfigError(
            f"channel name {name!r} must be 1-32 lowercase letters, digits, '_' or '-'",
            code="BAD_CHANNEL_NAME",
        )
    if await repo.get_partner(session, partner_id) is None:
        raise ConfigError(f"no partner {partner_id!r}: add it with `ordergate partners add {partner_id}`")
    interval = validate(kind, direction, settings, poll_seconds)
    row = await get_channel(session, partner_id, name)
    now = repo.utcnow()
    if row is None:
        row = PartnerChannel(partner_id=partner_id, name=name, created_at=now)
        session.add(row)
    elif not replace:
        raise ConfigError(
            f"partner {partner_id} already has a channel {name!r}; use --replace to change it",
            code="CHANNEL_EXISTS",
        )
    row.kind, row.direction, row.enabled = kind, direction, enabled
    row.settings, row.poll_seconds, row.updated_at = dict(settings), interval, now
    await session.flush()
    return row


async def get_channel(session: AsyncSession, partner_id: str, name: str) -> PartnerChannel | None:
    query = select(PartnerChannel).where(PartnerChannel.partner_id == partner_id, PartnerChannel.name == name)
    return (await session.scalars(query)).first()


async def list_channels(
    session: AsyncSession, partner_id: str | None = None, *, enabled_inbound: bool = False
) -> Sequence[PartnerChannel]:
    query = select(PartnerChannel).order_by(PartnerChannel.partner_id, PartnerChannel.name)
    if partner_id is not None:
        query = query.where(PartnerChannel.partner_id == partner_id)
    if enabled_inbound:
        query = query.where(
            PartnerChannel.enabled.is_(True), PartnerChannel.direction.in_(("inbound", "both"))
        )
    return (await session.scalars(query)).all()


async def record_poll(session: AsyncSession, channel_id: int, *, ok: bool, detail: str) -> None:
    row = await session.get(PartnerChannel, channel_id)
    if row is not None:
        row.last_poll_at, row.last_poll_ok, row.last_poll_detail = repo.utcnow(), ok, detail[:1000]


def channel_json(row: PartnerChannel) -> dict[str, Any]:
    """The channel as `channels list` shows it: settings as stored, i.e. secret names, never values."""
    try:
        secrets = registry.parse_settings(row.kind, row.settings).secret_names()
    except ConfigError:
        secrets = {}
    return {
        "partner": row.partner_id,
        "name": row.name,
        "kind": row.kind,
        "direction": row.direction,
        "enabled": row.enabled,
        "poll_seconds": row.poll_seconds,
        "settings": dict(row.settings),
        "secrets": secrets,
        "last_poll": {
            "at": row.last_poll_at.isoformat() if row.last_poll_at else None,
            "ok": row.last_poll_ok,
            "detail": row.last_poll_detail,
        },
    }


def build_connector(
    row: PartnerChannel, *, max_document_bytes: int, secrets: SecretSource | None = None
) -> Connector:
    """The connector for a stored channel; secrets are resolved later, when it connects."""
    context = ChannelContext(
        channel=row.name,
        partner_id=row.partner_id,
        max_document_bytes=max_document_bytes,
        direction=row.direction,  # type: ignore[arg-type]  # validated when stored
    )
    return registry.build(row.kind, row.settings, secrets or Secrets(), context=context)


__all__ = [
    "CHANNEL_NAME",
    "DIRECTIONS",
    "SECRETS_FILE_ENV",
    "SECRET_ENV_PREFIX",
    "MissingSecret",
    "Secrets",
    "build_connector",
    "channel_json",
    "get_channel",
    "list_channels",
    "read_secrets_file",
    "record_poll",
    "save_channel",
    "validate",
]
