"""Inbox folders: `<inbox>/<partner>/` per partner, plus `<inbox>/` itself for senders identified by
their envelope. A file is taken once its size has stayed the same for one poll (so a file still being
copied in is left alone), and moved to `processed/` or `failed/` beside it once it is archived, its
new name prefixed with the document id so ops can find it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from connectors.base import InboundItem

PROCESSED = "processed"
FAILED = "failed"
_SKIPPED_DIRS = {PROCESSED, FAILED}


class FolderConnector:
    channel = "folder"

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._sizes: dict[Path, int] = {}

    def _candidates(self) -> list[tuple[Path, str | None]]:
        found: list[tuple[Path, str | None]] = []
        if not self.root.is_dir():
            return found
        for entry in sorted(self.root.iterdir()):
            if entry.is_file() and not entry.name.startswith("."):
                found.append((entry, None))
            elif entry.is_dir() and entry.name not in _SKIPPED_DIRS and not entry.name.startswith("."):
                found.extend(
                    (file, entry.name)
                    for file in sorted(entry.iterdir())
                    if file.is_file() and not file.name.startswith(".")
                )
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
            if size > self.max_bytes:
                # Too large to archive in one piece: park it where ops will see it.
                self._move(path, FAILED, prefix="too-large")
                continue
            ready.append(
                InboundItem(
                    payload=path.read_bytes(),
                    channel=self.channel,
                    partner_id=partner,
                    filename=path.name,
                    meta={"path": str(path)},
                )
            )
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
        target = target_dir / f"{prefix}-{path.name}"
        os.replace(path, target)
