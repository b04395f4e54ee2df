"""What AS2 remembers between requests: the Message-IDs taken in (duplicate detection, tables
`as2_received`) and the messages sent with their MDN status (`as2_sent`).

Received Message-IDs are claimed before the archive and settled with the document after it (released
if the archive failed), so two concurrent copies of one message make one document: the second is told
to retry (503), a later resend gets the positive MDN. A claim a crash left behind is taken over once
`CLAIM_LEASE_SECONDS` have passed. The key is (AS2-From, AS2-To, Message-ID) with the payload's sha256:
the same key with other content is refused, never silently merged (RELIABILITY, AS2 notes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gateway.storage import repository as repo
from gateway.storage.database import Database
from gateway.storage.models import As2Received, As2Sent

log = logging.getLogger("ordergate.connectors.as2")

CLAIM_LEASE_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Claim:
    """new: go ahead and archive; taken: a resend of `document_id`; conflict: the Message-ID was taken
    for other content; busy: another request is taking it in now."""

    state: Literal["new", "taken", "conflict", "busy"]
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: str
    partner_id: str | None
    channel: str
    filename: str
    mic: str | None
    mic_algorithm: str | None
    mdn_mode: str
    status: str
    disposition: str | None
    detail: str | None
    sent_at: datetime
    mdn_at: datetime | None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sent(row: As2Sent) -> SentMessage:
    return SentMessage(
        message_id=row.message_id,
        partner_id=row.partner_id,
        channel=row.channel,
        filename=row.filename,
        mic=row.mic,
        mic_algorithm=row.mic_algorithm,
        mdn_mode=row.mdn_mode,
        status=row.status,
        disposition=row.disposition,
        detail=row.detail,
        sent_at=_aware(row.sent_at),
        mdn_at=_aware(row.mdn_at) if row.mdn_at else None,
    )


class As2Store:
    def __init__(self, database: Database, *, keep_days: int = 90, owned: bool = False) -> None:
        self.database = database
        self.keep_days = keep_days
        self._owned = owned

    def __repr__(self) -> str:
        return f"As2Store(keep_days={self.keep_days})"

    @classmethod
    def from_settings(cls) -> As2Store:
        """A store on the gateway's database (ORDERGATE_DATABASE_URL), for connectors built without
        one, such as by `ordergate channels test`."""
        from gateway.settings import get_settings

        settings = get_settings()
        return cls(
            Database(settings.resolved_database_url), keep_days=settings.duplicate_window_days, owned=True
        )

    async def aclose(self) -> None:
        if self._owned:
            await self.database.close()

    # Received -----------------------------------------------------------------------------------------

    async def claim(
        self, *, partner_id: str, channel: str, as2_from: str, as2_to: str, message_id: str, sha256: str
    ) -> Claim:
        now = repo.utcnow()
        key = (
            As2Received.as2_from == as2_from,
            As2Received.as2_to == as2_to,
            As2Received.message_id == message_id,
        )
        try:
            async with self.database.transaction() as session:
                await session.execute(
                    delete(As2Received).where(As2Received.claimed_at < now - timedelta(days=self.keep_days))
                )
                row = (await session.scalars(select(As2Received).where(*key))).first()
                if row is None:
                    session.add(
                        As2Received(
                            partner_id=partner_id,
                            channel=channel,
                            as2_from=as2_from,
                            as2_to=as2_to,
                            message_id=message_id,
                            payload_sha256=sha256,
                            claimed_at=now,
                        )
                    )
                    await session.flush()
                    return Claim("new")
                if row.document_id is not None:
                    return Claim("taken" if row.payload_sha256 == sha256 else "conflict", row.document_id)
                if now - _aware(row.claimed_at) < timedelta(seconds=CLAIM_LEASE_SECONDS):
                    return Claim("busy")
                row.claimed_at, row.payload_sha256 = now, sha256  # left by a crash: take it over
                return Claim("new")
        except IntegrityError:  # a concurrent request inserted the same key first
            return Claim("busy")

    async def settle(self, *, as2_from: str, as2_to: str, message_id: str, document_id: str | None) -> None:
        """Record the document a claimed message became, or release the claim (None) so a resend is
        taken in. Best effort: a claim left behind runs out after its lease."""
        try:
            async with self.database.transaction() as session:
                query = select(As2Received).where(
                    As2Received.as2_from == as2_from,
                    As2Received.as2_to == as2_to,
                    As2Received.message_id == message_id,
                )
                row = (await session.scalars(query)).first()
                if row is None:
                    return
                if document_id is None:
                    await session.delete(row)
                else:
                    row.document_id = document_id
        except Exception:
            log.warning("AS2 message %s: could not update its record", message_id, exc_info=True)

    # Sent ---------------------------------------------------------------------------------------------

    async def sending(
        self,
        *,
        message_id: str,
        partner_id: str | None,
        channel: str,
        as2_from: str,
        as2_to: str,
        filename: str,
        sha256: str,
        mic: str | None,
        mic_algorithm: str | None,
        mdn_mode: str,
    ) -> None:
        """Record a message before it is posted, so an async MDN that overtakes the HTTP response
        finds it. A resend (same Message-ID) starts its row over."""
        async with self.database.transaction() as session:
            row = (await session.scalars(select(As2Sent).where(As2Sent.message_id == message_id))).first()
            if row is None:
                row = As2Sent(message_id=message_id, attempts=0)
                session.add(row)
            row.partner_id, row.channel, row.as2_from, row.as2_to = partner_id, channel, as2_from, as2_to
            row.filename, row.payload_sha256, row.mic, row.mic_algorithm = (
                filename,
                sha256,
                mic,
                mic_algorithm,
            )
            row.mdn_mode, row.status, row.disposition, row.detail = mdn_mode, "sending", None, None
            row.attempts, row.sent_at, row.mdn_at = (row.attempts or 0) + 1, repo.utcnow(), None

    async def update_sent(
        self, message_id: str, *, status: str, disposition: str | None = None, detail: str | None = None
    ) -> None:
        async with self.database.transaction() as session:
            row = (await session.scalars(select(As2Sent).where(As2Sent.message_id == message_id))).first()
            if row is None:
                return
            if row.status in ("processed", "failed") and status == "awaiting_mdn":
                return  # the async MDN came before the HTTP response: keep its verdict
            row.status, row.disposition, row.detail = status, disposition, (detail or None)
            if status in ("processed", "failed"):
                row.mdn_at = repo.utcnow()

    async def get_sent(self, message_id: str) -> SentMessage | None:
        async with self.database.session() as session:
            row = (await session.scalars(select(As2Sent).where(As2Sent.message_id == message_id))).first()
            return _sent(row) if row is not None else None


__all__ = ["CLAIM_LEASE_SECONDS", "As2Store", "Claim", "SentMessage"]
