"""One IMAP connection (the standard library's `imaplib`, run in a worker thread): TLS, STARTTLS or
plain to this machine; login; the polled folder selected. Every operation the connector needs is one
method here, and every imaplib, socket or TLS error leaves as a `TransportError` that says whether
trying again can help.

Messages are addressed by UID and read with `BODY.PEEK[]`, which never sets \\Seen: only `release`
marks a mail seen (and tags and moves it), after the archive commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import re
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from connectors.base import Check, SecretSource
from connectors.email.settings import IMAP_PORTS, EmailSettings
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable, TransportError

T = TypeVar("T")

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_KEYWORD = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True, slots=True)
class Selected:
    """What SELECT told about the folder."""

    uidvalidity: int
    keywords_allowed: bool  # PERMANENTFLAGS holds \* (new keywords may be stored)
    capabilities: frozenset[str]


def quoted(text: str) -> str:
    """An IMAP quoted string (RFC 3501 4.3)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tls_context(settings: EmailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(settings.tls_ca_file) if settings.tls_ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class ImapSession:
    def __init__(self, settings: EmailSettings, secrets: SecretSource) -> None:
        self.settings = settings
        self.secrets = secrets
        self.address = settings.imap_address
        self._client: imaplib.IMAP4 | None = None
        self._selected: Selected | None = None
        self._thread_lock = threading.Lock()  # a cancelled await leaves its thread running
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ImapSession({self.address}, folder={self.settings.folder!r})"

    # The operations ------------------------------------------------------------------------------------

    async def unseen(self, limit: int) -> tuple[int, list[tuple[int, int]]]:
        """The folder's UIDVALIDITY and its unseen, undeleted mails as (UID, size), oldest first."""

        def search(client: imaplib.IMAP4, selected: Selected) -> tuple[int, list[tuple[int, int]]]:
            data = _ok(client.uid("SEARCH", "UNSEEN", "UNDELETED"), "search the folder")
            uids = sorted(int(uid) for uid in b" ".join(d for d in data if isinstance(d, bytes)).split())
            uids = uids[:limit]
            if not uids:
                return selected.uidvalidity, []
            sizes: dict[int, int] = {}
            fetched = _ok(client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "read mail sizes")
            for line in fetched:
                text = line[0] if isinstance(line, tuple) else line
                if not isinstance(text, bytes):
                    continue
                uid, size = _UID.search(text), _SIZE.search(text)
                if uid and size:
                    sizes[int(uid.group(1))] = int(size.group(1))
            return selected.uidvalidity, [(uid, sizes[uid]) for uid in uids if uid in sizes]

        return await self.run("search the folder", search, retry=True)

    async def fetch(self, uid: int, *, header_only: bool = False) -> bytes:
        """The whole mail (or only its header), without setting \\Seen."""
        section = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"

        def fetch(client: imaplib.IMAP4, _: Selected) -> bytes:
            data = _ok(client.uid("FETCH", str(uid), f"({section})"), f"fetch mail {uid}")
            for part in data:
                if isinstance(part, tuple) and isinstance(part[1], bytes):
                    return part[1]
            raise ConnectorRejected(f"mail {uid} on {self.address} has vanished", code="IMAP_NO_SUCH_MAIL")

        return await self.run(f"fetch mail {uid}", fetch, retry=True)

    async def release(
        self, uid: int, uidvalidity: int, *, keywords: Sequence[str], folder: str | None
    ) -> None:
        """Mark the mail seen (with the keywords, where the server keeps them), then move it."""

        def release(client: imaplib.IMAP4, selected: Selected) -> None:
            if selected.uidvalidity != uidvalidity:
                raise ConnectorRejected(
                    f"the folder {self.settings.folder} on {self.address} was renumbered (UIDVALIDITY "
                    f"{uidvalidity} → {selected.uidvalidity}); the mail will be offered again",
                    code="IMAP_UIDVALIDITY",
                )
            tags = [k for k in keywords if _KEYWORD.match(k)] if selected.keywords_allowed else []
            flags = "(" + " ".join(["\\Seen", *tags]) + ")"
            _ok(client.uid("STORE", str(uid), "+FLAGS.SILENT", flags), f"mark mail {uid} seen")
            if folder and folder != self.settings.folder:
                self._move(client, selected, uid, folder)

        await self.run(f"release mail {uid}", release)

    def _move(self, client: imaplib.IMAP4, selected: Selected, uid: int, folder: str) -> None:
        """MOVE (RFC 6851) where offered, else COPY, \\Deleted and UID EXPUNGE (RFC 4315) or EXPUNGE;
        a missing folder is created once."""
        for attempt in (1, 2):
            command = "MOVE" if "MOVE" in selected.capabilities else "COPY"
            typ, data = client.uid(command, str(uid), quoted(folder))
            if typ == "OK":
                break
            if attempt == 2:
                raise ConnectorRejected(
                    f"moving mail {uid} to {folder} on {self.address}: the server said {_said(data)}",
                    code="IMAP_MOVE",
                )
            client.create(quoted(folder))  # fails harmlessly if it exists; the retry tells
        if command == "COPY":
            _ok(client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), f"delete mail {uid}")
            if "UIDPLUS" in selected.capabilities:
                _ok(client.uid("EXPUNGE", str(uid)), f"expunge mail {uid}")
            else:
                _ok(client.expunge(), "expunge")

    async def check(self) -> list[Check]:
        settings = self.settings
        try:
            await self.run("open the folder", lambda client, selected: None)
        except (TransportError, ConfigError) as error:
            name = {
                "IMAP_AUTH": "imap login",
                "IMAP_NO_FOLDER": "imap folder",
                "MISSING_SECRET": "secrets",
                "IMAP_PASSWORD": "secrets",
            }.get(error.code, "imap connect")
            checks = []
            if name in ("imap login", "imap folder"):
                checks.append(Check("imap connect", True, f"reached {self._where()}"))
            if name == "imap folder":
                checks.append(Check("imap login", True, f"logged in as {settings.username}"))
            return [*checks, Check(name, False, error.message)]
        checks = [
            Check("imap connect", True, f"reached {self._where()}"),
            Check("imap login", True, f"logged in as {settings.username}"),
            Check("imap folder", True, f"{settings.folder} opened"),
        ]
        for label, folder in (("processed", settings.processed_folder), ("failed", settings.failed_folder)):
            if folder:
                exists = await self.run(f"look for {folder}", _exists_in(folder))
                note = "exists" if exists else "does not exist yet; it is created at the first move"
                checks.append(Check(f"{label} folder", True, f"{folder} {note}"))
        return checks

    def _where(self) -> str:
        settings = self.settings
        port = settings.imap_port or IMAP_PORTS[settings.imap_security]
        return f"{settings.imap_host}:{port} ({settings.imap_security})"

    # Connection -----------------------------------------------------------------------------------------

    async def run(
        self, what: str, operation: Callable[[imaplib.IMAP4, Selected], T], *, retry: bool = False
    ) -> T:
        """Run one operation in a worker thread, connecting first if needed. `retry`: a read that
        fails on a connection the server dropped since the last poll is tried once on a new one."""
        async with self._lock:
            return await asyncio.to_thread(self._call, what, operation, retry)

    def _call(self, what: str, operation: Callable[[imaplib.IMAP4, Selected], T], retry: bool) -> T:
        with self._thread_lock:
            for attempt in (1, 2):
                reused = self._client is not None
                try:
                    client, selected = self._open()
                    client.untagged_responses.clear()  # unsolicited answers would pile up otherwise
                    return operation(client, selected)
                except (imaplib.IMAP4.abort, OSError) as error:
                    self._drop()
                    if not (attempt == 1 and retry and reused):
                        raise self._describe(error, what) from None
                except imaplib.IMAP4.error as error:
                    raise self._describe(error, what) from None
            raise AssertionError("unreachable")

    def _open(self) -> tuple[imaplib.IMAP4, Selected]:
        if self._client is not None and self._selected is not None:
            return self._client, self._selected
        settings = self.settings
        host, port = settings.imap_host or "", settings.imap_port or IMAP_PORTS[settings.imap_security]
        try:
            if settings.imap_security == "tls":
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    host, port, ssl_context=tls_context(settings), timeout=settings.timeout_seconds
                )
            else:
                client = imaplib.IMAP4(host, port, timeout=settings.timeout_seconds)
        except (imaplib.IMAP4.error, OSError) as error:
            raise self._describe(error, "connect") from None
        try:
            self._client = client
            if settings.imap_security == "starttls":
                if "STARTTLS" not in client.capabilities:
                    raise ConnectorRejected(
                        f"{self._where()} does not offer STARTTLS; use imap_security=tls (port 993)",
                        code="IMAP_NO_STARTTLS",
                    )
                client.starttls(ssl_context=tls_context(settings))
            self._login(client)
            self._selected = self._select(client)
        except BaseException:
            self._drop()
            raise
        return client, self._selected

    def _login(self, client: imaplib.IMAP4) -> None:
        settings = self.settings
        assert settings.password_secret is not None and settings.username is not None
        password = self.secrets.get(settings.password_secret).get_secret_value()
        try:
            client.login(quoted(settings.username), password)
        except UnicodeEncodeError:
            raise ConfigError(
                f"the password in secret {settings.password_secret} has non-ASCII characters, which IMAP "
                "LOGIN cannot carry",
                code="IMAP_PASSWORD",
            ) from None
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as error:
            raise ConnectorRejected(
                f"login to {self.address} failed: the server refused the credentials "
                f"(secret {settings.password_secret}): {_said(error.args)}",
                code="IMAP_AUTH",
            ) from None

    def _select(self, client: imaplib.IMAP4) -> Selected:
        folder = self.settings.folder
        typ, data = client.select(quoted(folder))
        if typ != "OK":
            raise ConnectorRejected(
                f"folder {folder} cannot be opened on {self.address}: the server said {_said(data)}",
                code="IMAP_NO_FOLDER",
            )
        _, validity = client.response("UIDVALIDITY")
        _, permanent = client.response("PERMANENTFLAGS")
        _, capability = client.capability()
        words = b" ".join(c for c in capability if isinstance(c, bytes)).decode("ascii", "replace").upper()
        return Selected(
            uidvalidity=int(validity[0]) if validity and validity[0] else 0,
            keywords_allowed=any(b"\\*" in p for p in permanent if isinstance(p, bytes)),
            capabilities=frozenset(words.split()),
        )

    def _describe(self, error: BaseException, what: str) -> TransportError:
        where = f"{what} on {self.address}"
        if isinstance(error, TransportError):
            return error
        if isinstance(error, ssl.SSLCertVerificationError):
            return ConnectorRejected(
                f"{where}: the server's TLS certificate is not trusted ({error.verify_message}); if it is "
                "signed by a private CA, set tls_ca_file",
                code="IMAP_TLS",
            )
        if isinstance(error, ssl.SSLError):
            return ConnectorRejected(
                f"{where}: TLS failed ({error.reason}); is imap_security={self.settings.imap_security} "
                "right for this port?",
                code="IMAP_TLS",
            )
        if isinstance(error, TimeoutError):
            return ConnectorUnavailable(
                f"{where}: no answer within {self.settings.timeout_seconds:g}s", code="IMAP_TIMEOUT"
            )
        if isinstance(error, ConnectionRefusedError):
            return ConnectorUnavailable(f"{where}: connection refused", code="IMAP_UNAVAILABLE")
        if isinstance(error, imaplib.IMAP4.abort):
            return ConnectorUnavailable(
                f"{where}: the connection broke ({_said(error.args)})", code="IMAP_ABORT"
            )
        if isinstance(error, imaplib.IMAP4.error):
            return ConnectorRejected(f"{where}: the server said {_said(error.args)}", code="IMAP_FAILURE")
        if isinstance(error, OSError):
            return ConnectorUnavailable(f"{where}: {error.strerror or error}", code="IMAP_UNAVAILABLE")
        return ConnectorUnavailable(f"{where}: {type(error).__name__}", code="IMAP_UNAVAILABLE")

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    async def close(self) -> None:
        def logout() -> None:
            with self._thread_lock:
                client, self._client, self._selected = self._client, None, None
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.logout()

        async with self._lock:
            await asyncio.to_thread(logout)


def _ok(response: tuple[str, list[object]], what: str) -> list[object]:
    typ, data = response
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {_said(data)}")
    return data


def _exists_in(folder: str) -> Callable[[imaplib.IMAP4, Selected], bool]:
    def exists(client: imaplib.IMAP4, _: Selected) -> bool:
        typ, data = client.list('""', quoted(folder))
        return typ == "OK" and any(isinstance(d, bytes | tuple) for d in data)

    return exists


def _said(data: Sequence[object] | None) -> str:
    """What the server said, as text (imaplib hands over bytes, strings or tuples)."""
    parts = []
    for item in data or ():
        if isinstance(item, bytes):
            parts.append(item.decode("utf-8", "replace"))
        elif isinstance(item, str):
            parts.append(item)
    text = " ".join(parts).strip()
    return repr(text[:200]) if text else "nothing"


__all__ = ["ImapSession", "Selected", "quoted", "tls_context"]
