"""Receiving a document: archive the raw bytes first, then translate, identify and store.

Two transactions on purpose. The first commits the raw bytes (with their sha256) before anything can go
wrong, so nothing received is ever lost; the second stores either every order of the document or one
failure that says why none was taken. `process` is the translate step a pipeline stage calls with a
document id; `receive` is both steps for callers without a queue (CLI, inbox, API on the embedded bus).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.errors import Issue
from gateway.partners import resolve_sender
from gateway.pipeline.messages import order_message
from gateway.pipeline.outbox import enqueue
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Document
from mappings.base import InterchangeHeader
from mappings.translate import Translation, translate

log = logging.getLogger("ordergate.ingest")


@dataclass(slots=True)
class IngestResult:
    document_id: str
    status: str  # accepted | failed
    format: str | None = None
    partner_id: str | None = None
    order_ids: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    failure_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "status": self.status,
            "format": self.format,
            "partner": self.partner_id,
            "orders": self.order_ids,
            "failure_id": self.failure_id,
            "errors": [e.model_dump(mode="json", exclude_none=True) for e in self.errors],
            "warnings": [w.model_dump(mode="json", exclude_none=True) for w in self.warnings],
        }


def interchange_key(header: InterchangeHeader) -> repo.InterchangeKey:
    return repo.InterchangeKey(
        format=header.format,
        sender_qualifier=header.sender_qualifier or "",
        sender_id=header.sender_id,
        receiver_qualifier=header.receiver_qualifier or "",
        receiver_id=header.receiver_id,
        control_ref=header.control_ref,
    )


class Ingestor:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def receive(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> IngestResult:
        document_id = await self.archive(
            raw, channel=channel, filename=filename, content_type=content_type, partner_id=partner_id
        )
        try:
            return await self.process(document_id)
        except (
            Exception
        ) as error:  # archived already: record why, so the caller can release the sender's copy
            log.exception("processing document %s failed unexpectedly", document_id)
            return await self._internal_failure(document_id, error)

    async def archive(
        self,
        raw: bytes,
        *,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
        partner_id: str | None = None,
    ) -> str:
        async with self.database.transaction() as session:
            document = await repo.archive_document(
                session,
                raw,
                channel=channel,
                filename=filename,
                content_type=content_type,
                partner_id=partner_id,
            )
            return document.id

    async def process(self, document_id: str) -> IngestResult:
        async with self.database.session() as session:
            document = await repo.get_document(session, document_id, with_raw=True)
            if document is None:
                raise LookupError(f"document {document_id} does not exist")
            raw, claimed_partner = document.raw, document.claimed_partner
        translation = await asyncio.to_thread(translate, raw)
        try:
            async with self.database.transaction() as session:
                return await self.store(session, document_id, claimed_partner, translation)
        except IntegrityError:
            # Another worker stored the same interchange between our check and our commit.
            async with self.database.transaction() as session:
                return await self.store(session, document_id, claimed_partner, translation)

    async def store(
        self, session: AsyncSession, document_id: str, claimed_partner: str | None, translation: Translation
    ) -> IngestResult:
        """Store the verdict on a translated document in the caller's transaction."""
        document = await repo.get_document(session, document_id)
        assert document is not None
        document.format = translation.format
        document.message_types = ",".join(translation.message_types)[:100] or None
        if translation.interchanges:
            document.interchange_ref = translation.interchanges[0].header.control_ref[:35]
        result = IngestResult(document_id=document_id, status="failed", format=translation.format)
        result.warnings = translation.warnings

        issues = list(translation.errors)
        partners: list[str | None] = []
        for interchange in translation.interchanges:
            partner_id, partner_issues = await resolve_sender(session, interchange.header, claimed_partner)
            partners.append(partner_id)
            issues.extend(partner_issues)
        verified = [p for p in partners if p]
        result.partner_id = verified[0] if verified else None
        document.partner_id = result.partner_id
        if not issues:
            issues.extend(await self._duplicates(session, document, translation))

        if issues:
            return await self._fail(session, document, result, issues)

        sequence = 0
        announcements = []
        for interchange, partner_id in zip(translation.interchanges, partners, strict=True):
            await repo.record_interchange(
                session, interchange_key(interchange.header), document_id=document.id, partner_id=partner_id
            )
            for message in interchange.messages:
                if message.order is None:
                    continue
                sequence += 1
                order = message.order.model_copy(deep=True)
                order.source.channel = document.channel
                order.source.raw_document_id = document.id
                record = await repo.record_order(
                    session,
                    order,
                    document_id=document.id,
                    sequence=sequence,
                    partner_id=partner_id,
                    warnings=message.warnings,
                )
                result.order_ids.append(record.id)
                announcements.append(
                    order_message(
                        "review",
                        record.id,
                        partner=partner_id,
                        channel=document.channel,
                        document_id=document.id,
                    )
                )
        # Each stored order is announced to the review stage in the same transaction (outbox).
        enqueue(session, announcements)
        document.status = "accepted"
        document.order_count = sequence
        document.processed_at = repo.utcnow()
        result.status = "accepted"
        await session.flush()
        return result

    async def _duplicates(
        self, session: AsyncSession, document: Document, translation: Translation
    ) -> list[Issue]:
        earlier = await repo.find_accepted_with_hash(session, document.sha256, exclude=document.id)
        if earlier is not None:
            return [
                Issue(
                    code="DUPLICATE_DOCUMENT",
                    message=f"the same bytes (sha256 {document.sha256[:12]}…) were already accepted as document "
                    f"{earlier.id} on {earlier.received_at:%Y-%m-%d %H:%M:%S}",
                )
            ]
        found: list[Issue] = []
        for interchange in translation.interchanges:
            header = interchange.header
            seen = await repo.find_interchange(session, interchange_key(header))
            if seen is not None:
                found.append(
                    Issue(
                        code="DUPLICATE_INTERCHANGE",
                        message=f"interchange control reference {header.control_ref} from sender "
                        f"{header.sender_id} to {header.receiver_id} was already received in document "
                        f"{seen.document_id} on {seen.received_at:%Y-%m-%d %H:%M:%S}",
                        segment="UNB" if header.format == "edifact" else "ISA",
                        position=1,
                        element="0020" if header.format == "edifact" else "ISA13",
                    )
                )
        return found

    async def _internal_failure(self, document_id: str, error: Exception) -> IngestResult:
        issue = Issue(
            code="INTERNAL_ERROR",
            message=f"ordergate could not process the document ({type(error).__name__}: {error}); "
            "it is archived and can be replayed once the cause is fixed",
        )
        result = IngestResult(document_id=document_id, status="failed")
        async with self.database.transaction() as session:
            document = await repo.get_document(session, document_id)
            assert document is not None
            return await self._fail(session, document, result, [issue])

    async def _fail(
        self, session: AsyncSession, document: Document, result: IngestResult, issues: Sequence[Issue]
    ) -> IngestResult:
        failure = await repo.record_failure(
            session, document_id=document.id, stage="translate", issues=issues
        )
        document.status = "failed"
        document.processed_at = repo.utcnow()
        result.errors = list(issues)
        result.failure_id = failure.id
        return result
