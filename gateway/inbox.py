"""The loops that feed polled connectors' items to the gateway: the inbox folder, and every enabled
inbound channel of every partner, each at its own interval.

For each item: commit the raw bytes to the archive (or, for an item the connector refused, a failure
that says why), and only then `confirm`, which releases the sender's copy. A failing channel logs one
clear line and is tried again at its next interval; it never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from connectors import registry
from connectors.base import InboundConnector, InboundItem, Outcome, SecretSource, confirm_item
from gateway.channels import Secrets, build_connector, list_channels, record_poll
from gateway.core.errors import GatewayError
from gateway.ingest import IngestResult
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import PartnerChannel

log = logging.getLogger("ordergate.inbox")

PollHook = Callable[[bool, str], Awaitable[None]]


class Receiver(Protocol):
    """Takes a document in and gives its verdict (an `Ingestor`, or the queued `GatewayService`)."""

    database: Database

    async def receive(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> IngestResult: ...


async def record_refusal(database: Database, item: InboundItem) -> IngestResult:
    """A document the connector would not take in (too large) still gets a documents row, empty, with
    a failure giving the reason, so ops see it where they see every other refused document."""
    assert item.refusal is not None
    async with database.transaction() as session:
        document = await repo.archive_document(
            session,
            b"",
            channel=item.channel,
            filename=item.filename,
            content_type=item.content_type,
            partner_id=item.partner_id,
        )
        failure = await repo.record_failure(
            session, document_id=document.id, stage="receive", issues=[item.refusal]
        )
        document.status, document.processed_at = "failed", repo.utcnow()
        return IngestResult(
            document_id=document.id,
            status="failed",
            partner_id=item.partner_id,
            errors=[item.refusal],
            failure_id=failure.id,
        )


async def drain_once(connector: InboundConnector, receiver: Receiver) -> list[IngestResult]:
    results = []
    for item in await connector.poll():
        if item.refusal is not None:
            result = await record_refusal(receiver.database, item)
        else:
            result = await receiver.receive(
                item.payload,
                channel=item.channel,
                filename=item.filename,
                content_type=item.content_type,
                partner_id=item.partner_id,
            )
        # Committed: only now may the sender's copy be released. A verdict still on its way
        # ("received") is not a failure: the document is safe and will be processed.
        try:
            accepted = result.status != "failed"
            await confirm_item(connector, Outcome(item, result.document_id, accepted, tuple(result.errors)))
        except Exception as error:  # the document is archived; the sender's copy stays and is seen again
            log.warning(
                "%s: document %s is archived but releasing %s failed: %s",
                item.channel,
                result.document_id,
                item.filename,
                error,
            )
        log.info(
            "document %s from %s (%s, %s): %s%s",
            result.document_id,
            item.filename,
            item.partner_id or "envelope",
            item.channel,
            result.status,
            f" ({result.errors[0].describe()})" if result.errors else "",
        )
        results.append(result)
    return results


async def watch(
    connector: InboundConnector,
    receiver: Receiver,
    *,
    interval: float,
    label: str = "inbox",
    on_poll: PollHook | None = None,
) -> None:
    """Poll forever; a failing poll is logged and retried at the next interval, never fatal."""
    while True:
        try:
            results = await drain_once(connector, receiver)
            ok, detail = True, f"{len(results)} document(s) taken"
        except asyncio.CancelledError:
            raise
        except GatewayError as error:  # expected trouble (unreachable, refused): one line, no traceback
            ok, detail = False, str(error)
            log.error("%s: poll failed: %s; retrying in %gs", label, error, interval)
        except Exception as error:
            ok, detail = False, f"unexpected {type(error).__name__}: {error}"
            log.exception("%s: poll failed; retrying in %gs", label, interval)
        if on_poll is not None:
            try:
                await on_poll(ok, detail)
            except Exception:
                log.warning("%s: could not record the poll's outcome", label, exc_info=True)
        await asyncio.sleep(interval)


class ChannelWatchers:
    """One `watch` loop per enabled inbound channel. Re-reads the channel table every
    `refresh_seconds`, so `ordergate channels add|remove` takes effect without a restart."""

    def __init__(
        self,
        database: Database,
        receiver: Receiver,
        *,
        max_document_bytes: int,
        refresh_seconds: float = 30.0,
        secrets: SecretSource | None = None,
    ) -> None:
        self.database = database
        self.receiver = receiver
        self.max_document_bytes = max_document_bytes
        self.refresh_seconds = refresh_seconds
        self.secrets = secrets or Secrets()
        self._running: dict[int, tuple[datetime, asyncio.Task[None], InboundConnector]] = {}

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not read the partner channels; retrying in %gs", self.refresh_seconds)
            await asyncio.sleep(self.refresh_seconds)

    async def refresh(self) -> None:
        async with self.database.session() as session:
            rows = {row.id: row for row in await list_channels(session, enabled_inbound=True)}
        for channel_id, (updated_at, _, _) in list(self._running.items()):
            row = rows.get(channel_id)
            if row is None or row.updated_at != updated_at:
                await self._stop(channel_id)
        for channel_id, row in rows.items():
            if channel_id not in self._running:
                await self._start(row)

    async def _start(self, row: PartnerChannel) -> None:
        label = f"channel {row.partner_id}/{row.name}"
        try:
            if not registry.get(row.kind).poll:
                return  # a pushed channel: its HTTP receiver feeds the gateway, nothing to poll
            connector = build_connector(row, max_document_bytes=self.max_document_bytes, secrets=self.secrets)
        except GatewayError as error:
            log.error("%s (%s) cannot start: %s", label, row.kind, error)
            await self._record(row.id, False, str(error))
            return
        assert isinstance(connector, InboundConnector), f"{row.kind} declares poll but cannot poll"
        task = asyncio.create_task(
            watch(
                connector,
                self.receiver,
                interval=row.poll_seconds,
                label=label,
                on_poll=lambda ok, detail: self._record(row.id, ok, detail),
            ),
            name=label,
        )
        self._running[row.id] = (row.updated_at, task, connector)
        log.info("%s (%s) polled every %gs", label, row.kind, row.poll_seconds)

    async def _record(self, channel_id: int, ok: bool, detail: str) -> None:
        async with self.database.transaction() as session:
            await record_poll(session, channel_id, ok=ok, detail=detail)

    async def _stop(self, channel_id: int) -> None:
        _, task, connector = self._running.pop(channel_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await connector.aclose()
        except Exception:
            log.warning("closing channel %s failed", channel_id, exc_info=True)

    async def stop(self) -> None:
        for channel_id in list(self._running):
            await self._stop(channel_id)
