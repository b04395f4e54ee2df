"""SFTP inbound (poll a remote folder) and outbound (upload, then rename into place).

Inbound, a file is taken only when it is complete (`readiness`), downloaded up to the size limit, and
left exactly where it is until `confirm`: then it moves to `processed/<document id>-<name>` (or is
deleted, `after_confirm=delete`), and a document that failed or was refused moves to `failed/`. A
refused file is never deleted: its bytes are not in the archive. A confirm that fails is retried at the
next poll before anything new is taken, so the same file is not archived twice by one process.

Outbound, the bytes go to a hidden temporary name in the target folder and are renamed to the final
name with `posix-rename@openssh.com` (atomic, replaces a previous copy) where the server has it, else a
plain rename; the final size is checked. A reader never sees half a file under the final name.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import posixpath
import secrets
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import asyncssh

from connectors.base import (
    ChannelContext,
    Check,
    InboundItem,
    Receipt,
    SecretSource,
    display_name,
    single_component,
    too_large,
)
from connectors.sftp.session import SftpSession
from connectors.sftp.settings import SftpSettings
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable, GatewayError, TransportError

log = logging.getLogger("ordergate.connectors.sftp")


class SftpConnector:
    def __init__(self, settings: SftpSettings, secrets: SecretSource, context: ChannelContext) -> None:
        self.settings = settings
        self.channel = context.channel
        self.partner_id = context.partner_id
        self.max_bytes = context.max_document_bytes
        self.direction = context.direction
        self.session = SftpSession(settings, secrets)
        self._previous: dict[str, tuple[int, int]] = {}  # name → (size, mtime) at the last poll
        self._unconfirmed: dict[str, tuple[InboundItem, str, bool]] = {}
        self._ignored: set[str] = set()  # names already warned about

    def __repr__(self) -> str:
        return f"SftpConnector(channel={self.channel!r}, {self.session.address}, folder={self.settings.folder!r})"

    # Inbound ----------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[InboundItem]:
        await self._retry_confirms()
        folder = self.settings.folder
        listing = await self.session.run(f"list {folder}", lambda sftp: sftp.readdir(folder))
        items: list[InboundItem] = []
        for name, size in self._ready(listing):
            path = posixpath.join(folder, name)
            if path in self._unconfirmed:
                continue
            try:
                items.append(await self._take(name, path, size))
            except ConnectorRejected as error:  # this file only (vanished, no permission): skip it
                log.warning("channel %s: skipping %s: %s", self.channel, display_name(name), error)
        return items

    def _ready(self, listing: Sequence[asyncssh.SFTPName]) -> list[tuple[str, int]]:
        """The names that are complete by the configured convention, with their sizes."""
        settings = self.settings
        files: dict[str, tuple[int, int]] = {}
        for entry in listing:
            name = (
                entry.filename
                if isinstance(entry.filename, str)
                else entry.filename.decode("utf-8", "replace")
            )
            attrs = entry.attrs
            regular = (
                stat.S_ISREG(attrs.permissions)
                if attrs.permissions is not None
                else attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
            )
            if not regular:
                continue
            if not single_component(name):
                if name not in self._ignored:
                    self._ignored.add(name)
                    log.warning(
                        "channel %s: ignoring remote name %r: not a plain file name", self.channel, name
                    )
                continue
            files[name] = (attrs.size or 0, attrs.mtime or 0)
        wanted = {
            name: facts
            for name, facts in files.items()
            if fnmatch.fnmatchcase(name, settings.pattern)
            and not any(fnmatch.fnmatchcase(name, p) for p in settings.ignore_patterns)
            and not (settings.readiness == "marker" and name.endswith(settings.marker_suffix))
        }
        if settings.readiness == "marker":
            ready = [name for name in wanted if name + settings.marker_suffix in files]
        elif settings.readiness == "rename":
            ready = list(wanted)
        else:
            ready = [name for name, facts in wanted.items() if self._previous.get(name) == facts]
            self._previous = wanted
        return [(name, wanted[name][0]) for name in sorted(ready)]

    async def _take(self, name: str, path: str, size: int) -> InboundItem:
        shown = display_name(name)
        meta = {"remote_path": path, "remote_name": name, "size": size}
        if size > self.max_bytes:
            refusal = too_large(size, self.max_bytes, shown)
            return InboundItem(b"", self.channel, self.partner_id, shown, meta=meta, refusal=refusal)

        async def download(sftp: asyncssh.SFTPClient) -> bytes:
            async with sftp.open(path, "rb") as remote:
                data = await remote.read(self.max_bytes + 1)
            return data if isinstance(data, bytes) else data.encode()

        payload = await self.session.run(f"download {path}", download, timed=False)
        if len(payload) > self.max_bytes:  # it grew after the listing
            refusal = too_large(len(payload), self.max_bytes, shown)
            return InboundItem(b"", self.channel, self.partner_id, shown, meta=meta, refusal=refusal)
        return InboundItem(payload, self.channel, self.partner_id, shown, meta=meta)

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        path = str(item.meta["remote_path"])
        try:
            await self._release(item, document_id, accepted)
        except TransportError:
            self._unconfirmed[path] = (item, document_id, accepted)
            raise
        self._unconfirmed.pop(path, None)
        self._previous.pop(str(item.meta["remote_name"]), None)

    async def _retry_confirms(self) -> None:
        for path, (item, document_id, accepted) in list(self._unconfirmed.items()):
            try:
                await self.confirm(item, document_id=document_id, accepted=accepted)
            except ConnectorRejected as error:  # gone or not ours to move any more: stop trying
                log.warning("channel %s: giving up releasing %s: %s", self.channel, item.filename, error)
                self._unconfirmed.pop(path, None)

    async def _release(self, item: InboundItem, document_id: str, accepted: bool) -> None:
        settings = self.settings
        path, name = str(item.meta["remote_path"]), str(item.meta["remote_name"])

        async def release(sftp: asyncssh.SFTPClient) -> None:
            if accepted and item.refusal is None and settings.after_confirm == "delete":
                await sftp.remove(path)
            else:
                folder = settings.remote(settings.processed_folder if accepted else settings.failed_folder)
                if not await sftp.isdir(folder):
                    await sftp.mkdir(folder)
                await _rename(sftp, path, posixpath.join(folder, f"{document_id}-{name}"))
            if settings.readiness == "marker":
                marker = path + settings.marker_suffix
                if await sftp.exists(marker):
                    await sftp.remove(marker)

        await self.session.run(f"release {path}", release)

    # Outbound ---------------------------------------------------------------------------------------

    async def send(self, payload: bytes, *, filename: str, meta: Mapping[str, str] | None = None) -> Receipt:
        if not single_component(filename) or filename.startswith("."):
            raise ConnectorRejected(
                f"{filename!r} is not a plain file name", code="BAD_REMOTE_NAME", element="filename"
            )
        folder = self.settings.outbound_folder
        final = posixpath.join(folder, filename)
        temporary = posixpath.join(folder, f".{filename}.{secrets.token_hex(4)}.part")

        async def upload(sftp: asyncssh.SFTPClient) -> tuple[str, int]:
            try:
                async with sftp.open(temporary, "wb") as remote:
                    await remote.write(payload)
                how = await _rename(sftp, temporary, final)
                size = (await sftp.stat(final)).size
            except BaseException:
                with contextlib.suppress(asyncssh.Error, OSError):
                    await sftp.remove(temporary)
                raise
            return how, size or 0

        how, size = await self.session.run(f"upload {final}", upload, timed=False)
        if size != len(payload):
            raise ConnectorUnavailable(
                f"upload {final} on {self.session.address}: {size} bytes arrived of {len(payload)}",
                code="SFTP_SHORT_WRITE",
            )
        return Receipt(
            channel=self.channel,
            remote_ref=final,
            size=size,
            at=datetime.now(UTC),
            details={"transport": "sftp", "server": self.session.address, "rename": how},
        )

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        settings = self.settings
        try:
            await self.session.open()
        except GatewayError as error:
            code = error.code
            if code == "SFTP_AUTH":
                return [
                    Check("host key", True, "the server's key is the pinned one"),
                    Check("authentication", False, error.message),
                ]
            name = {
                "SFTP_HOST_KEY": "host key",
                "SFTP_PRIVATE_KEY": "secrets",
                "MISSING_SECRET": "secrets",
            }.get(code, "connect")
            return [Check(name, False, error.message)]
        checks = [
            Check("connect", True, f"reached {settings.host}:{settings.port}"),
            Check("host key", True, "the server's key is the pinned one"),
            Check("authentication", True, f"logged in as {settings.username}"),
        ]
        folders: dict[str, str] = {}
        if self.direction in ("inbound", "both"):
            folders["inbound folder"] = settings.folder
        if self.direction in ("outbound", "both"):
            folders["outbound folder"] = settings.outbound_folder
        for label, folder in folders.items():
            checks.append(await self._check_folder(label, folder))
        return checks

    async def _check_folder(self, label: str, folder: str) -> Check:
        probe = posixpath.join(folder, f".ordergate-probe-{secrets.token_hex(4)}")

        async def write_probe(sftp: asyncssh.SFTPClient) -> bool:
            if not await sftp.isdir(folder):
                return False
            async with sftp.open(probe, "wb") as remote:
                await remote.write(b"")
            await sftp.remove(probe)
            return True

        try:
            exists = await self.session.run(f"write a probe file in {folder}", write_probe)
        except TransportError as error:
            return Check(label, False, f"{folder} is not writable: {error.message}")
        if not exists:
            return Check(label, False, f"{folder} does not exist or is not a folder on the server")
        return Check(label, True, f"{folder} exists and is writable")

    async def aclose(self) -> None:
        await self.session.close()


async def _rename(sftp: asyncssh.SFTPClient, source: str, target: str) -> str:
    """Atomic replace where the server offers it; a plain SFTP rename (which never replaces) otherwise."""
    try:
        await sftp.posix_rename(source, target)
        return "posix-rename"
    except asyncssh.SFTPOpUnsupported:
        if await sftp.exists(target):
            raise ConnectorRejected(
                f"{target} already exists and the server has no posix-rename to replace it atomically",
                code="SFTP_TARGET_EXISTS",
            ) from None
        await sftp.rename(source, target)
        return "rename"
