"""E-mail inbound (poll an IMAP folder's unseen mail) and outbound (send a document over SMTP).

A poll searches `UNSEEN UNDELETED`, reads each mail with `BODY.PEEK[]` (never marking it seen) up to
the mail size limit, and offers one item per document (`items.py`); it takes mails until their sizes
add up to that limit (at least one), so a backlog of large mails is read over several polls. The mail stays unseen until every
one of its items is confirmed: then it is marked \\Seen, tagged `ordergate-<document id>` where the
server keeps keywords, and moved to `processed_folder` or, when a document failed, `failed_folder`
(each optional). A crash before that leaves it unseen, so it is offered again and the archive's
duplicate check absorbs the repeat: a document refused only as a duplicate counts as taken.

When a document failed (the gateway's issues arrive with `confirm`'s `outcome`), the sender gets one
polite answer naming each failed document and why, unless the rules of `answers.py` forbid one. The
answer is sent after the release; one that cannot be sent is retried at the next polls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

from connectors.base import (
    ChannelContext,
    Check,
    InboundItem,
    Outcome,
    Receipt,
    SecretSource,
    single_component,
)
from connectors.email.answers import AnswerLimit, why_not_answer
from connectors.email.compose import Verdict, document_mail, failure_answer
from connectors.email.imap import ImapSession
from connectors.email.items import TEXT_PART, MailKey, items_for
from connectors.email.mail import Mail, read_mail
from connectors.email.settings import EmailSettings
from connectors.email.smtp import SmtpSender
from gateway.core.errors import ConfigError, ConnectorRejected, GatewayError, TransportError

log = logging.getLogger("ordergate.connectors.email")

TAKEN_BEFORE = frozenset({"DUPLICATE_DOCUMENT", "DUPLICATE_INTERCHANGE"})
ANSWER_ATTEMPTS = 5
CONTENT_TYPES = {
    "edi": "application/EDIFACT",
    "edifact": "application/EDIFACT",
    "x12": "application/EDI-X12",
    "xml": "application/xml",
    "json": "application/json",
    "csv": "text/csv",
    "txt": "text/plain",
    "pdf": "application/pdf",
}


@dataclass(slots=True)
class _Pending:
    """A mail whose items are offered and not all confirmed yet."""

    key: MailKey
    mail: Mail
    parts: frozenset[str]
    verdicts: dict[str, Verdict] = field(default_factory=dict)


class EmailConnector:
    def __init__(
        self,
        settings: EmailSettings,
        secrets: SecretSource,
        context: ChannelContext,
        *,
        recognise: Callable[[bytes], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.channel = context.channel
        self.partner_id = context.partner_id
        self.max_bytes = context.max_document_bytes
        self.direction = context.direction
        self.recognise = recognise
        self.imap = ImapSession(settings, secrets) if settings.imap_host else None
        self.smtp = SmtpSender(settings, secrets) if settings.smtp_host else None
        self.limit = AnswerLimit(settings.replies_per_sender_per_hour, clock)
        self._pending: dict[MailKey, _Pending] = {}
        self._unreleased: dict[MailKey, _Pending] = {}  # complete, but marking/moving failed
        self._unsent: list[tuple[EmailMessage, str, int]] = []  # answers to send again: recipient, attempts

    def __repr__(self) -> str:
        return f"EmailConnector(channel={self.channel!r}, imap={self.imap!r}, smtp={self.smtp!r})"

    # Inbound ----------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[InboundItem]:
        imap = self._imap()
        await self._retry()
        uidvalidity, found = await imap.unseen(self.settings.batch_size)
        for key in [key for key in self._pending if key[0] != uidvalidity]:
            del self._pending[key]  # the folder was renumbered: its mails come again under new UIDs
        limit = self.settings.message_limit(self.max_bytes)
        items: list[InboundItem] = []
        taken_bytes = 0
        for uid, size in found:
            key = (uidvalidity, uid)
            if key in self._unreleased:
                continue
            cost = size if size <= limit else 0  # a mail above the limit is read as far as its header
            if items and taken_bytes + cost > limit:
                break  # memory stays within one mail's limit per poll; the rest comes next poll
            taken_bytes += cost
            try:
                raw = await imap.fetch(uid, header_only=size > limit)
            except ConnectorRejected as error:  # this mail only (deleted meanwhile): skip it
                log.warning("channel %s: skipping mail %s: %s", self.channel, uid, error)
                continue
            mail = read_mail(raw, complete=size <= limit, size=size)
            taken = items_for(
                mail,
                key,
                channel=self.channel,
                partner_id=self.partner_id,
                max_bytes=self.max_bytes,
                recognise=self.recognise,
                message_limit=limit,
            )
            self._pending[key] = _Pending(key, mail, frozenset(str(item.meta["part"]) for item in taken))
            items.extend(taken)
        return items

    async def confirm(
        self, item: InboundItem, *, document_id: str, accepted: bool, outcome: Outcome | None = None
    ) -> None:
        key, part = item.meta.get("mail"), str(item.meta.get("part"))
        pending = self._pending.get(key) if isinstance(key, tuple) else None
        if pending is None or part not in pending.parts:
            log.warning(
                "channel %s: %s (document %s) belongs to no mail waiting for confirmation; if still "
                "unseen, the mail is offered again",
                self.channel,
                item.filename,
                document_id,
            )
            return
        issues = outcome.issues if outcome is not None else ((item.refusal,) if item.refusal else ())
        taken_before = bool(issues) and all(issue.code in TAKEN_BEFORE for issue in issues)
        pending.verdicts[part] = Verdict(
            name=item.filename or part,
            document_id=document_id,
            accepted=accepted or taken_before,
            issues=tuple(issues),
            is_text=part == TEXT_PART,
        )
        if set(pending.verdicts) != pending.parts:
            return  # more documents of this mail to come
        del self._pending[pending.key]
        await self._finish(pending)

    async def _finish(self, pending: _Pending) -> None:
        settings = self.settings
        verdicts = list(pending.verdicts.values())
        failed = any(not verdict.accepted for verdict in verdicts)
        keywords = [f"ordergate-{v.document_id}" for v in verdicts] if settings.tag_documents else []
        try:
            await self._imap().release(
                pending.key[1],
                pending.key[0],
                keywords=keywords,
                folder=settings.failed_folder if failed else settings.processed_folder,
            )
        except TransportError:
            self._unreleased[pending.key] = pending
            raise
        self._unreleased.pop(pending.key, None)
        if failed:
            await self._answer(pending.mail, verdicts)

    async def _retry(self) -> None:
        """Before anything new: release mails whose release failed, send answers that could not go."""
        for key, pending in list(self._unreleased.items()):
            try:
                await self._finish(pending)
            except ConnectorRejected as error:  # gone, or the folder renumbered: it comes again if unseen
                log.warning("channel %s: giving up releasing mail %s: %s", self.channel, key[1], error)
                self._unreleased.pop(key, None)
        unsent, self._unsent = self._unsent, []
        for message, recipient, attempts in unsent:
            await self._send_answer(message, recipient, attempts)

    # Answers ----------------------------------------------------------------------------------------

    async def _answer(self, mail: Mail, verdicts: Sequence[Verdict]) -> None:
        settings = self.settings
        about = mail.message_id or f"mail {mail.subject!r}"
        if not settings.reply_on_failure:
            return
        reason = why_not_answer(mail, self._own_addresses())
        if reason is not None:
            log.info("channel %s: no answer to %s: %s", self.channel, about, reason)
            return
        if self.smtp is None or settings.sender is None:
            log.warning("channel %s: cannot answer %s: the channel has no smtp_host", self.channel, about)
            return
        assert mail.reply_address is not None  # why_not_answer checked it
        if not self.limit.allow(mail.reply_address):
            log.warning(
                "channel %s: no answer to %s: its sender had %d answers in the last hour already",
                self.channel,
                about,
                settings.replies_per_sender_per_hour,
            )
            return
        message = failure_answer(mail, verdicts, sender=settings.sender, recipient=mail.reply_address)
        await self._send_answer(message, mail.reply_address, 0)

    async def _send_answer(self, message: EmailMessage, recipient: str, attempts: int) -> None:
        assert self.smtp is not None and self.settings.sender is not None
        envelope_from = "" if self.settings.null_reply_sender else self.settings.sender
        try:
            await self.smtp.send(message, envelope_from=envelope_from, recipients=[recipient])
        except (TransportError, ConfigError) as error:
            again = isinstance(error, TransportError) and error.retryable and attempts + 1 < ANSWER_ATTEMPTS
            if again:
                self._unsent.append((message, recipient, attempts + 1))
            log.warning(
                "channel %s: the answer to %s could not be sent%s: %s",
                self.channel,
                message["In-Reply-To"] or message["Subject"],
                ", trying again at the next poll" if again else "",
                error,
            )
            return
        log.info("channel %s: answered %s", self.channel, message["In-Reply-To"] or message["Subject"])

    def _own_addresses(self) -> set[str]:
        settings = self.settings
        own = {settings.sender} if settings.sender else set()
        own.update(name for name in (settings.username, settings.smtp_username) if name and "@" in name)
        return {address for address in own if address}

    # Outbound ---------------------------------------------------------------------------------------

    async def send(self, payload: bytes, *, filename: str, meta: Mapping[str, str] | None = None) -> Receipt:
        if not single_component(filename) or filename.startswith("."):
            raise ConnectorRejected(
                f"{filename!r} is not a plain file name", code="BAD_REMOTE_NAME", element="filename"
            )
        settings = self.settings
        if self.smtp is None or settings.sender is None:
            raise ConnectorRejected(
                f"channel {self.channel} has no smtp_host to send with", code="EMAIL_NO_SMTP"
            )
        if not settings.send_to:
            raise ConnectorRejected(
                f"channel {self.channel} names no recipient: set send_to", code="EMAIL_NO_RECIPIENT"
            )
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        message = document_mail(
            payload,
            filename=filename,
            content_type=(meta or {}).get("content_type")
            or CONTENT_TYPES.get(extension, "application/octet-stream"),
            sender=settings.sender,
            recipients=settings.send_to,
            meta={k: v for k, v in (meta or {}).items() if k != "content_type"},
        )
        await self.smtp.send(message, envelope_from=settings.sender, recipients=settings.send_to)
        message_id = str(message["Message-ID"])
        return Receipt(
            channel=self.channel,
            remote_ref=f"{','.join(settings.send_to)}/{filename}",
            size=len(payload),
            at=datetime.now(UTC),
            details={"transport": "smtp", "message_id": message_id, "server": self.smtp.address},
        )

    # Both -------------------------------------------------------------------------------------------

    async def check(self) -> Sequence[Check]:
        settings = self.settings
        inbound = self.direction in ("inbound", "both")
        outbound = self.direction in ("outbound", "both")
        checks: list[Check] = []
        try:
            if inbound:
                if self.imap is None:
                    checks.append(
                        Check("imap", False, "no imap_host: an inbound e-mail channel needs a mailbox")
                    )
                else:
                    checks.extend(await self.imap.check())
            if outbound or (inbound and settings.reply_on_failure):
                if self.smtp is None:
                    needed = (
                        "to send documents"
                        if outbound
                        else "to answer failed mail (or reply_on_failure=false)"
                    )
                    checks.append(Check("smtp", False, f"no smtp_host: one is needed {needed}"))
                else:
                    checks.extend(await self.smtp.check())
            if outbound and not settings.send_to:
                checks.append(Check("recipients", False, "send_to is empty: documents would go nowhere"))
        except GatewayError as error:  # check() reports, never raises
            checks.append(Check("connect", False, error.message))
        return checks

    def _imap(self) -> ImapSession:
        if self.imap is None:
            raise ConnectorRejected(f"channel {self.channel} has no imap_host to poll", code="EMAIL_NO_IMAP")
        return self.imap

    async def aclose(self) -> None:
        if self.imap is not None:
            await self.imap.close()


__all__ = ["EmailConnector"]
