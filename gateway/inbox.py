"""The loop that feeds inbound connectors' items to the ingestor, one item at a time."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from connectors.base import InboundConnector
from gateway.ingest import IngestResult

log = logging.getLogger("ordergate.inbox")


class Receiver(Protocol):
    """Takes a document in and gives its verdict (an `Ingestor`, or the queued `GatewayService`)."""

    async def receive(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> IngestResult: ...


async def drain_once(connector: InboundConnector, ingestor: Receiver) -> list[IngestResult]:
    results = []
    for item in await connector.poll():
        result = await ingestor.receive(
            item.payload,
            channel=item.channel,
            filename=item.filename,
            content_type=item.content_type,
            partner_id=item.partner_id,
        )
        await connector.confirm(item, document_id=result.document_id, accepted=result.status == "accepted")
        log.info(
            "document %s from %s (%s): %s%s",
            result.document_id,
            item.filename,
            item.partner_id or "envelope",
            result.status,
            f" ({result.errors[0].describe()})" if result.errors else "",
        )
        results.append(result)
    return results


async def watch(connector: InboundConnector, ingestor: Receiver, *, interval: float) -> None:
    """Poll forever; a failing poll is logged and retried, never fatal to the server."""
    while True:
        try:
            await drain_once(connector, ingestor)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbox poll failed; retrying in %.1fs", interval)
        await asyncio.sleep(interval)
