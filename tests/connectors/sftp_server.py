"""An in-process SFTP server for tests: asyncssh on 127.0.0.1 (a free port), chrooted to a temporary
folder, host key generated per server, password and public-key logins. It records every open and
rename so tests can prove what the client did, and can be told to list names no file system allows
(`../../etc/passwd`, `a/b`) or to lack `posix-rename`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

PASSWORD = "correct horse battery staple"
USER = "partner"


@dataclass
class ServerLog:
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, path, other path)

    def opened_for_write(self) -> list[str]:
        return [path for op, path, _ in self.events if op == "open-write"]

    def renames(self) -> list[tuple[str, str]]:
        return [(old, new) for op, old, new in self.events if op in {"rename", "posix-rename"}]


class _Logins(asyncssh.SSHServer):
    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = passwords

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return self.passwords.get(username) == password


class _RecordingSFTP(asyncssh.SFTPServer):
    def __init__(
        self,
        chan: asyncssh.SSHServerChannel,
        *,
        root: Path,
        log: ServerLog,
        posix_rename: bool,
        fake_names: Sequence[str],
    ) -> None:
        super().__init__(chan, chroot=str(root).encode())
        self.log = log
        self.posix_rename_supported = posix_rename
        self.fake_names = fake_names

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        writing = pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT)
        self.log.events.append(("open-write" if writing else "open-read", path.decode(), ""))
        return super().open(path, pflags, attrs)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self.log.events.append(("rename", oldpath.decode(), newpath.decode()))
        super().rename(oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        if not self.posix_rename_supported:
            raise asyncssh.SFTPOpUnsupported("posix-rename is switched off on this test server")
        self.log.events.append(("posix-rename", oldpath.decode(), newpath.decode()))
        super().posix_rename(oldpath, newpath)

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        async for name in super().scandir(path):
            yield name
        for fake in self.fake_names:
            attrs = asyncssh.SFTPAttrs(size=20, permissions=0o100644, mtime=int(time.time()) - 60)
            yield asyncssh.SFTPName(fake.encode(), b"", attrs)


@dataclass
class SftpServer:
    root: Path
    port: int
    host_key: asyncssh.SSHKey
    log: ServerLog
    acceptor: Any
    settings_posix_rename: bool = True

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    @property
    def known_hosts(self) -> str:
        public = self.host_key.export_public_key("openssh").decode().strip()
        return f"[127.0.0.1]:{self.port} {public}"

    def channel_settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings for a channel on this server: password login, host key pinned by fingerprint."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password_secret": "ACME_SFTP_PASSWORD",
            "host_key_fingerprint": self.fingerprint,
            "folder": "in",
            "outbound_folder": "out",
            "connect_attempts": 1,
            "timeout_seconds": 5,
        } | overrides

    async def close(self) -> None:
        self.acceptor.close()
        await self.acceptor.wait_closed()


async def start_sftp_server(
    root: Path,
    *,
    passwords: dict[str, str] | None = None,
    authorized_keys: str | None = None,
    posix_rename: bool = True,
    fake_names: Sequence[str] = (),
    folders: Sequence[str] = ("in", "out"),
) -> SftpServer:
    root.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    log = ServerLog()
    logins = passwords if passwords is not None else {USER: PASSWORD}
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=lambda: _Logins(logins),
        authorized_client_keys=asyncssh.import_authorized_keys(authorized_keys) if authorized_keys else None,
        sftp_factory=lambda chan: _RecordingSFTP(
            chan, root=root, log=log, posix_rename=posix_rename, fake_names=fake_names
        ),
        allow_scp=False,
    )
    return SftpServer(root=root, port=acceptor.get_port(), host_key=host_key, log=log, acceptor=acceptor)


@contextmanager
def threaded_sftp_server(root: Path, **options: Any) -> Iterator[SftpServer]:
    """The same server on a loop of its own, for synchronous callers (the CLI runner)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_sftp_server(root, **options), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
