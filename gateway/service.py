"""One gateway process: database, bus, the pipeline stages it runs, and optionally the inbox watcher
and the pollers of every partner's enabled inbound channels (SFTP …).

- `ordergate serve` without `ORDERGATE_BROKER_URL`: every stage in-process on the embedded bus, plus the
  API and the inbox — the whole gateway on one machine with nothing to install.
- `ordergate serve` with a broker: API, inbox and channels only; they archive and publish (through the outbox),
  and `ordergate worker` processes consume the stages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from connectors.folder import FolderConnector
from gateway.bus.base import Bus
from gateway.bus.factory import open_bus
from gateway.core.errors import Issue
from gateway.inbox import ChannelWatchers, watch
from gateway.ingest import Ingestor, IngestResult
from gateway.pipeline.operations import archive_and_announce
from gateway.pipeline.runtime import ALL_STAGES, Pipeline
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database

log = logging.getLogger("ordergate.service")


class GatewayService:
    def __init__(
        self, settings: Settings, *, stages: Sequence[str] | None = None, watch_inbox: bool = False
    ) -> None:
        self.settings = settings
        self.stages = tuple(ALL_STAGES if stages is None else stages)
        self.watch_inbox = watch_inbox
        self.database = Database(settings.resolved_database_url)
        self.bus: Bus = open_bus(settings, self.database, namespace=settings.bus_namespace)
        self.pipeline = Pipeline(self.database, self.bus)
        self.ingestor = Ingestor(self.database)
        self._inbox: asyncio.Task[None] | None = None
        self.channels = ChannelWatchers(self.database, self, max_document_bytes=settings.max_document_bytes)
        self._channels: asyncio.Task[None] | None = None

    @classmethod
    def for_serve(cls, settings: Settings) -> GatewayService:
        """All stages in-process on the embedded bus; none with a broker (workers run them)."""
        return cls(settings, stages=() if settings.broker_url else None, watch_inbox=True)

    async def start(self) -> None:
        await self.database.migrate()
        await self.bus.connect()
        await self.pipeline.start(self.stages, concurrency=self.settings.prefetch)
        if self.watch_inbox:
            self.settings.inbox_root.mkdir(parents=True, exist_ok=True)
            connector = FolderConnector(self.settings.inbox_root, max_bytes=self.settings.max_document_bytes)
            self._inbox = asyncio.create_task(
                watch(connector, self, interval=self.settings.inbox_poll_seconds), name="inbox"
            )
            self._channels = asyncio.create_task(self.channels.run(), name="channels")

    async def submit(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> str:
        """Archive the raw bytes and announce them to the intake stage, in one transaction."""
        async with self.database.transaction() as session:
            document = await archive_and_announce(
                session,
                raw,
                channel=channel,
                filename=filename,
                content_type=content_type,
                partner_id=partner_id,
            )
        self.pipeline.relay.wake()
        return document.id

    async def verdict(self, document_id: str, *, timeout: float) -> IngestResult:
        """The translate stage's verdict on a document, waiting up to `timeout` seconds for it; status
        `received` when it is still on its way (the document is safe in the archive either way)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = await _verdict(self.database, document_id)
            if result is not None:
                return result
            if asyncio.get_running_loop().time() >= deadline:
                return IngestResult(document_id=document_id, status="received")
            await asyncio.sleep(0.05)

    async def receive(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> IngestResult:
        document_id = await self.submit(
            raw, channel=channel, filename=filename, content_type=content_type, partner_id=partner_id
        )
        return await self.verdict(document_id, timeout=self.settings.verdict_wait_seconds)

    async def stop(self) -> None:
        for task in (self._inbox, self._channels):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.channels.stop()
        await self.pipeline.stop()
        await self.bus.close()
        await self.pipeline.dispatcher.client.aclose()
        await self.database.close()


async def _verdict(database: Database, document_id: str) -> IngestResult | None:
    async with database.session() as session:
        document = await repo.get_document(session, document_id)
        if document is None or document.status == "received":
            return None
        orders = await repo.list_orders(session, document_id=document_id, limit=100_000)
        failures = await repo.list_failures(session, status=None, document_id=document_id)
    result = IngestResult(
        document_id=document_id,
        status=document.status,
        format=document.format,
        partner_id=document.partner_id,
    )
    result.order_ids = [o.id for o in orders]
    result.warnings = [Issue.model_validate(w) for o in orders for w in o.warnings]
    if failures:
        latest = max(failures, key=lambda f: f.id)
        result.failure_id = latest.id
        result.errors = [Issue.model_validate(i) for i in latest.issues]
    return result
