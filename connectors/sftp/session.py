"""One SSH connection and its SFTP client: opened on first use with the host key pinned, reused, and
dropped after a connection-level failure so the next call reconnects. Every asyncssh error leaves this
module as a `TransportError` that says whether trying again can help."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncssh
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from connectors.base import SecretSource
from connectors.sftp.settings import SftpSettings
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable, TransportError

T = TypeVar("T")

# asyncssh logs every connection and SFTP request at INFO: one line per poll and file is noise in
# `ordergate serve`. Its warnings still show.
logging.getLogger("asyncssh").setLevel(logging.WARNING)


class _PinnedHostKey(asyncssh.SSHClient):
    """Accepts a host key not listed in `known_hosts` only if its SHA256 fingerprint is the pinned one,
    and remembers what the server presented so a refusal can name it."""

    def __init__(self, fingerprint: str | None) -> None:
        self.fingerprint = fingerprint
        self.presented: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.presented = key.get_fingerprint("sha256")
        return self.fingerprint is not None and hmac.compare_digest(self.presented, self.fingerprint)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, TransportError) and error.retryable


class SftpSession:
    def __init__(self, settings: SftpSettings, secrets: SecretSource) -> None:
        self.settings = settings
        self.secrets = secrets
        self.address = f"{settings.username}@{settings.host}:{settings.port}"
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SftpSession({self.address})"

    async def open(self) -> None:
        """Connect now (host key, authentication, SFTP subsystem) unless already connected."""
        async with self._lock:
            await self._client()

    async def run(
        self,
        what: str,
        operation: Callable[[asyncssh.SFTPClient], Awaitable[T]],
        *,
        timed: bool = True,
    ) -> T:
        """Run one SFTP operation, connecting first if needed; errors become `TransportError`s.
        `timed` bounds it by `timeout_seconds` (transfers are not: keepalives notice a dead peer)."""
        async with self._lock:
            sftp = await self._client()
            try:
                if timed:
                    return await asyncio.wait_for(operation(sftp), self.settings.timeout_seconds)
                return await operation(sftp)
            except (asyncssh.SFTPError, asyncssh.Error, OSError, TimeoutError) as error:
                mapped = self.describe(error, what)
                if mapped.retryable:
                    await self._drop()
                raise mapped from error

    async def _client(self) -> asyncssh.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.settings.connect_attempts),
            wait=wait_random_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._connect()
        assert self._sftp is not None
        return self._sftp

    async def _connect(self) -> None:
        settings = self.settings
        pin = _PinnedHostKey(settings.host_key_fingerprint)
        password, keys = self._credentials()
        try:
            connection = await asyncssh.connect(
                settings.host,
                settings.port,
                username=settings.username,
                password=password,
                client_keys=keys,
                known_hosts=settings.known_hosts.encode() if settings.known_hosts else ([], [], []),
                client_factory=lambda: pin,
                config=None,
                agent_path=None,
                gss_host=None,
                host_based_auth=False,
                connect_timeout=settings.timeout_seconds,
                login_timeout=settings.timeout_seconds,
                keepalive_interval=15,
            )
        except asyncssh.HostKeyNotVerifiable as error:
            presented = f" the server presented {pin.presented};" if pin.presented else ""
            expected = settings.host_key_fingerprint or "the key in known_hosts"
            raise ConnectorRejected(
                f"host key of {settings.host}:{settings.port} is not the pinned one:{presented} expected "
                f"{expected}. If the partner really changed its key, verify the new one with them and "
                "update the channel's host_key_fingerprint or known_hosts",
                code="SFTP_HOST_KEY",
            ) from error
        except (asyncssh.Error, OSError, TimeoutError) as error:
            raise self.describe(error, "connect") from error
        try:
            self._sftp = await asyncio.wait_for(connection.start_sftp_client(), settings.timeout_seconds)
        except (asyncssh.Error, OSError, TimeoutError) as error:
            connection.close()
            raise self.describe(error, "start SFTP") from error
        self._connection = connection

    def _credentials(self) -> tuple[str | None, list[asyncssh.SSHKey] | None]:
        settings = self.settings
        password = self.secrets.get(settings.password_secret) if settings.password_secret else None
        keys: list[asyncssh.SSHKey] | None = None
        if settings.private_key_secret:
            passphrase = (
                self.secrets.get(settings.private_key_passphrase_secret).get_secret_value()
                if settings.private_key_passphrase_secret
                else None
            )
            try:
                key = asyncssh.import_private_key(
                    self.secrets.get(settings.private_key_secret).get_secret_value(), passphrase
                )
            except (asyncssh.KeyImportError, ValueError) as error:
                raise ConfigError(
                    f"the private key in secret {settings.private_key_secret} cannot be read "
                    f"({type(error).__name__}); is it an OpenSSH or PEM private key, and its passphrase right?",
                    code="SFTP_PRIVATE_KEY",
                ) from None
            keys = [key]
        return (password.get_secret_value() if password else None), keys

    def describe(self, error: BaseException, what: str) -> TransportError:
        """The gateway error for an asyncssh or socket error, worded for an operator."""
        where = f"{what} on {self.address}"
        if isinstance(error, asyncssh.PermissionDenied):
            secret = self.settings.password_secret or self.settings.private_key_secret
            return ConnectorRejected(
                f"authentication failed for {self.address}: the server refused the credentials "
                f"(secret {secret})",
                code="SFTP_AUTH",
            )
        if isinstance(error, asyncssh.KeyExchangeFailed):
            return ConnectorRejected(
                f"{where}: SSH negotiation failed ({error.reason}); a host key type other than the pinned "
                "one, or no common algorithm",
                code="SFTP_NEGOTIATION",
            )
        if isinstance(error, asyncssh.SFTPNoSuchFile | asyncssh.SFTPNoSuchPath):
            return ConnectorRejected(
                f"{where}: no such file or folder ({error.reason})", code="SFTP_NO_SUCH_PATH"
            )
        if isinstance(error, asyncssh.SFTPPermissionDenied):
            return ConnectorRejected(f"{where}: permission denied ({error.reason})", code="SFTP_PERMISSION")
        if isinstance(error, asyncssh.SFTPError) and not isinstance(
            error, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection
        ):
            return ConnectorUnavailable(f"{where}: the server said {error.reason!r}", code="SFTP_FAILURE")
        if isinstance(error, TimeoutError):
            return ConnectorUnavailable(
                f"{where}: no answer within {self.settings.timeout_seconds:g}s", code="SFTP_TIMEOUT"
            )
        if isinstance(error, ConnectionRefusedError):
            return ConnectorUnavailable(f"{where}: connection refused", code="SFTP_UNAVAILABLE")
        if isinstance(error, OSError):
            return ConnectorUnavailable(f"{where}: {error.strerror or error}", code="SFTP_UNAVAILABLE")
        reason = getattr(error, "reason", None) or type(error).__name__
        return ConnectorUnavailable(f"{where}: {reason}", code="SFTP_UNAVAILABLE")

    async def _drop(self) -> None:
        connection, self._connection, self._sftp = self._connection, None, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(TimeoutError, asyncssh.Error, OSError):
                await asyncio.wait_for(connection.wait_closed(), 5)

    async def close(self) -> None:
        async with self._lock:
            if self._sftp is not None:
                self._sftp.exit()
            await self._drop()
