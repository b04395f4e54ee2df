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
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.errors import Issue
from gateway.partner_formats import formats_for, translate_for
from gateway.partners import resolve_sender
from gateway.pipeline.messages import order_message
from gateway.pipeline.outbox import enqueue
from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import Document, Failure, Interchange
from mappings.base import InterchangeHeader
from mappings.translate import Translation

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
    failure: Failure | None = field(default=None, repr=False)  # until its id is known (flush)

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
            own = (await formats_for(session, [claimed_partner])).get(claimed_partner or "", [])
        translation = await asyncio.to_thread(translate_for, raw, own)
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
        [result] = await self.store_many(session, [(document, claimed_partner, translation)])
        return result

    async def store_many(
        self, session: AsyncSession, items: Sequence[tuple[Document, str | None, Translation]]
    ) -> list[IngestResult]:
        """Store the verdicts on translated documents in the caller's transaction, in a few set-based
        statements for the whole batch. Each document is judged as if alone, in order: a document that
        repeats one accepted earlier in the same batch is a duplicate of it."""
        resolve = _SenderCache(session)
        results: list[IngestResult] = []
        verdicts: list[tuple[Document, Translation, list[str | None], list[Issue]]] = []
        for document, claimed_partner, translation in items:
            document.format = translation.format
            document.message_types = ",".join(translation.message_types)[:100] or None
            if translation.interchanges:
                document.interchange_ref = translation.interchanges[0].header.control_ref[:35]
            issues = list(translation.errors)
            partners: list[str | None] = []
            for interchange in translation.interchanges:
                partner_id, partner_issues = await resolve(interchange.header, claimed_partner)
                partners.append(partner_id)
                issues.extend(partner_issues)
            verified = [p for p in partners if p]
            document.partner_id = verified[0] if verified else None
            verdicts.append((document, translation, partners, issues))

        duplicates = await _Duplicates.load(session, [(d, t) for d, t, _, issues in verdicts if not issues])
        new_orders: list[repo.NewOrder] = []
        accepted: list[tuple[IngestResult, Document, int]] = []
        interchanges: list[dict[str, Any]] = []
        for document, translation, partners, issues in verdicts:
            result = IngestResult(
                document_id=document.id,
                status="failed",
                format=translation.format,
                partner_id=document.partner_id,
            )
            result.warnings = translation.warnings
            results.append(result)
            if not issues:
                issues = duplicates.check(document, translation)
            if issues:
                await self._fail(session, document, result, issues, flush=False)
                continue
            duplicates.accept(document, translation)
            first = len(new_orders)
            for interchange, partner_id in zip(translation.interchanges, partners, strict=True):
                interchanges.append(
                    {
                        **interchange_key(interchange.header)._asdict(),
                        "document_id": document.id,
                        "partner_id": partner_id,
                        "received_at": repo.utcnow(),
                    }
                )
                for message in interchange.messages:
                    if message.order is None:
                        continue
                    # A shallow copy with its own source: a deep copy of every line costs more than
                    # the whole translation (profiled), and nothing else here changes.
                    source = message.order.source.model_copy(
                        update={"channel": document.channel, "raw_document_id": document.id}
                    )
                    order = message.order.model_copy(update={"source": source})
                    new_orders.append(
                        repo.NewOrder(
                            order, document.id, len(new_orders) - first + 1, partner_id, message.warnings
                        )
                    )
            accepted.append((result, document, len(new_orders) - first))

        if interchanges:
            await session.execute(insert(repo.table_of(Interchange)), interchanges)
        order_ids = iter(await repo.insert_orders(session, new_orders))
        announcements = []
        now = repo.utcnow()
        for result, document, count in accepted:
            for _ in range(count):
                order_id = next(order_ids)
                result.order_ids.append(order_id)
                announcements.append(
                    order_message(
                        "review",
                        order_id,
                        partner=result.partner_id,
                        channel=document.channel,
                        document_id=document.id,
                    )
                )
            document.status = "accepted"
            document.order_count = count
            document.processed_at = now
            result.status = "accepted"
        # Each stored order is announced to the review stage in the same transaction (outbox).
        await enqueue(session, announcements)
        await session.flush()
        for result in results:
            if result.failure is not None:
                result.failure_id = result.failure.id
        return results

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
        self,
        session: AsyncSession,
        document: Document,
        result: IngestResult,
        issues: Sequence[Issue],
        *,
        flush: bool = True,
    ) -> IngestResult:
        failure = await repo.record_failure(
            session, document_id=document.id, stage="translate", issues=issues, flush=flush
        )
        document.status = "failed"
        document.processed_at = repo.utcnow()
        result.errors = list(issues)
        result.failure = failure
        result.failure_id = failure.id
        return result


class _SenderCache:
    """`resolve_sender` once per (envelope sender, claimed partner) in a batch: a batch often holds
    many interchanges of one partner."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._known: dict[tuple[Any, ...], tuple[str | None, list[Issue]]] = {}

    async def __call__(
        self, header: InterchangeHeader, claimed: str | None
    ) -> tuple[str | None, list[Issue]]:
        key = (header.format, header.sender_qualifier, header.sender_id, claimed)
        if key not in self._known:
            self._known[key] = await resolve_sender(self.session, header, claimed)
        partner, issues = self._known[key]
        return partner, list(issues)


UPDATABLE_FORMATS = frozenset({"marketplace"})
"""Formats whose interchange key is the order itself (a marketplace order id): the same key with other
bytes is the order changed at its source (polled again after an update), not a resent interchange."""


class _Duplicates:
    """Documents and interchanges received before: looked up for a whole batch in two queries, then
    extended with what the batch accepts as it goes."""

    def __init__(
        self, hashes: dict[str, tuple[str, datetime]], keys: dict[repo.InterchangeKey, tuple[str, datetime]]
    ) -> None:
        self.hashes = hashes
        self.keys = keys

    @classmethod
    async def load(cls, session: AsyncSession, items: Sequence[tuple[Document, Translation]]) -> _Duplicates:
        if not items:
            return cls({}, {})
        hashes = await repo.accepted_by_hash(
            session, {d.sha256 for d, _ in items}, exclude={d.id for d, _ in items}
        )
        keys = await repo.find_interchanges(
            session, {interchange_key(i.header) for _, t in items for i in t.interchanges}
        )
        return cls(hashes, keys)

    def check(self, document: Document, translation: Translation) -> list[Issue]:
        earlier = self.hashes.get(document.sha256)
        if earlier is not None:
            earlier_id, earlier_at = earlier
            return [
                Issue(
                    code="DUPLICATE_DOCUMENT",
                    message=f"the same bytes (sha256 {document.sha256[:12]}…) were already accepted as document "
                    f"{earlier_id} on {earlier_at:%Y-%m-%d %H:%M:%S}",
                )
            ]
        found: list[Issue] = []
        for interchange in translation.interchanges:
            header = interchange.header
            seen = self.keys.get(interchange_key(header))
            if seen is not None and header.format in UPDATABLE_FORMATS:
                found.append(
                    Issue(
                        code="ORDER_UPDATE_NOT_APPLIED",
                        message=f"order {header.control_ref} changed at {header.sender_id} after it was taken in "
                        f"(document {seen[0]} on {seen[1]:%Y-%m-%d %H:%M:%S}); ordergate does not apply "
                        "order updates yet: compare the two documents and amend or cancel the order downstream "
                        "by hand, then discard this failure",
                    )
                )
            elif seen is not None:
                found.append(
                    Issue(
                        code="DUPLICATE_INTERCHANGE",
                        message=f"interchange control reference {header.control_ref} from sender "
                        f"{header.sender_id} to {header.receiver_id} was already received in document "
                        f"{seen[0]} on {seen[1]:%Y-%m-%d %H:%M:%S}",
                        **_control_reference_location(header.format),
                    )
                )
        return found

    def accept(self, document: Document, translation: Translation) -> None:
        now = repo.utcnow()
        self.hashes.setdefault(document.sha256, (document.id, document.received_at or now))
        for interchange in translation.interchanges:
            self.keys.setdefault(interchange_key(interchange.header), (document.id, now))


def _control_reference_location(format_name: str) -> dict[str, Any]:
    """Where an interchange's control reference sits, for the formats that have a segment for it."""
    if format_name == "edifact":
        return {"segment": "UNB", "position": 1, "element": "0020"}
    if format_name == "x12":
        return {"segment": "ISA", "position": 1, "element": "ISA13"}
    return {}
