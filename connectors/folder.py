"""Folders on this machine. Two uses:

- the inbox (`ordergate serve`): `<inbox>/<partner>/` per partner, plus `<inbox>/` itself for senders
  identified by their envelope;
- a partner's channel of kind `folder` (a mounted share): files directly in `path`, all from that partner.

A file is taken once its size has stayed the same for one poll (so a file still being copied in is left
alone) and moved to `processed/` or `failed/` beside it only when `confirm` says it is archived, its new
name prefixed with the document id so ops can find it. Outbound, a document is written to a hidden
temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from connectors.base import (
    ChannelContext,
    Check,
    ConnectorSettings,
    ConnectorSpec,
    InboundItem,
    Receipt,
    SecretSource,
    display_name,
    single_component,
    too_large,
)
from gateway.core.errors import ConnectorRejected, ConnectorUnavailable

PROCESSED = "processed"
FAILED = "failed"
_SKIPPED_DIRS = {PROCESSED, FAILED}


class FolderSettings(ConnectorSettings):
    path: Path
    outbound_path: Path | None = None


class FolderConnector:
    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        channel: str = "folder",
        partner_id: str | None = None,
        outbound_root: Path | None = None,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.channel = channel
        self.partner_id = partner_id  # set: a partner's own folder; unset: the inbox with partner subfolders
        self.outbound_root = outbound_root or root
        self._sizes: dict[Path, int] = {}

    def __repr__(self) -> str:
        return f"FolderConnector(channel={self.channel!r}, root={str(self.root)!r})"

    # Inbound ----------------------------------------------------------------------------------------

    def _files(self, folder: Path) -> list[Path]:
        return [p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]

    def _candidates(self) -> list[tuple[Path, str | None]]:
        if not self.root.is_dir():
            return []
        found: list[tuple[Path, str | None]] = [(path, self.partner_id) for path in self._files(self.root)]
        if self.partner_id is None:
            for entry in sorted(self.root.iterdir()):
                if entry.is_dir() and entry.name not in _SKIPPED_DIRS and not entry.name.startswith("."):
                    found.extend((path, entry.name) for path in self._files(entry))
        return found

    def _scan(self) -> list[InboundItem]:
        ready: list[InboundItem] = []
        seen: dict[Path, int] = {}
        for path, partner in self._candidates():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            seen[path] = size
            if self._sizes.get(path) != size:
                continue  # new or still growing: look again next poll
            name = display_name(path.name)
            meta = {"path": str(path)}
            if size > self.max_bytes:
                refusal = too_large(size, self.max_bytes, name)
                ready.append(InboundItem(b"", self.channel, partner, name, meta=meta, refusal=refusal))
                continue
            ready.append(InboundItem(path.read_bytes(), self.channel, partner, name, meta=meta))
        self._sizes = seen
        return ready

    async def poll(self) -> Sequence[InboundItem]:
        return await asyncio.to_thread(self._scan)

    async def confirm(self, item: InboundItem, *, document_id: str, accepted: bool) -> None:
        path = Path(item.meta["path"])
        await asyncio.to_thread(self._move, path, PROCESSED if accepted else FAILED, document_id)
        self._sizes.pop(path, None)

    @staticmethod
    def _move(path: Path, folder: str, prefix: str) -> None:
        target_dir = path.parent / folder
        target_dir.mkdir(exist_ok=True)
        os.replace(path, target_dir / f"{prefix}-{path.name}")

    # Outbound ---------------------------------------------------------------------------------------

    async def send(self, payload: bytes, *, filename: str, meta: Mapping[str, str] | None = None) -> Receipt:
        if not single_component(filename) or filename.startswith("."):
            raise ConnectorRejected(
                f"{filename!r} is not a plain file name", code="BAD_REMOTE_NAME", element="filename"
            )
        try:
            target = await asyncio.to_thread(self._write, payload, filename)
        except OSError as error:
            raise ConnectorUnavailable(
                f"cannot write to {self.outbound_root}: {error.strerror or error}", code="FOLDER_UNAVAILABLE"
            ) from error
        return Receipt(
            channel=self.channel,
            remote_ref=str(target),
            size=len(payload),
            at=datetime.now(UTC),
            details={"transport": "folder", "rename": "os.replace"},
        )

    def _write(self, payload: bytes, filename: str) -> Path:
        target = self.outbound_root / filename
        temporary = self.outbound_root / f".{filename}.{secrets.token_hex(4)}.part"
        try:
            with temporary.open("wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return target

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        return await asyncio.to_thread(self._check)

    def _check(self) -> list[Check]:
        checks: list[Check] = []
        for label, folder in {"folder": self.root, "outbound folder": self.outbound_root}.items():
            if label != "folder" and folder == self.root:
                continue
            if not folder.is_dir():
                checks.append(Check(label, False, f"{folder} does not exist or is not a folder"))
                continue
            probe = folder / f".ordergate-probe-{secrets.token_hex(4)}"
            try:
                probe.write_bytes(b"")
                probe.unlink()
            except OSError as error:
                checks.append(Check(label, False, f"{folder} is not writable: {error.strerror or error}"))
                continue
            checks.append(Check(label, True, f"{folder} exists and is writable"))
        return checks

    async def aclose(self) -> None:
        return None


def _build(settings: FolderSettings, _secrets: SecretSource, context: ChannelContext) -> FolderConnector:
    return FolderConnector(
        settings.path,
        max_bytes=context.max_document_bytes,
        channel=context.channel,
        partner_id=context.partner_id,
        outbound_root=settings.outbound_path,
    )


SPEC = ConnectorSpec(
    kind="folder",
    label="Folder on this machine (or a mounted share)",
    settings=FolderSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into FolderSettings first
    inbound=True,
    outbound=True,
    poll=True,
    default_poll_seconds=5.0,
)

__all__ = ["FAILED", "PROCESSED", "SPEC", "FolderConnector", "FolderSettings"]
