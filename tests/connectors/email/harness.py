"""The e-mail connector in the contract suite (tests/connectors/test_contract.py): a "file dropped" is
a mail delivered to the fake IMAP server with the file attached; "waiting" are the attachments of
unseen mail in INBOX; "released" are the mails moved to `processed`/`failed`, named
`<document id>-<attachment>` from the `ordergate-<document id>` keywords confirm tagged them with;
"delivered" are the attachments the SMTP server received. A mail arrives whole, so the suite's
growing-file case does not apply (`arrives_whole`)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors import registry
from connectors.base import ChannelContext, Connector
from tests.connectors.conftest import DictSecrets
from tests.connectors.email import imap_server, smtp_server, support
from tests.connectors.email.imap_server import ImapState, running_imap_server
from tests.connectors.email.smtp_server import SmtpCapture, running_smtp_server

LIMIT = 1000


@dataclass
class EmailHarness:
    kind: str
    settings: dict[str, Any]
    secrets: DictSecrets
    inbound: Path
    outbound: Path
    state: ImapState
    secret_values: tuple[str, ...] = (imap_server.PASSWORD, smtp_server.PASSWORD)
    arrives_whole: bool = True

    def build(self) -> Connector:
        context = ChannelContext("contract", "acme", LIMIT, "both")
        return registry.build(self.kind, self.settings, self.secrets, context=context)

    def drop(self, name: str, data: bytes) -> None:
        self.state.deliver(
            support.mail(subject=f"file {name}", attachments=[(name, data, "application/octet-stream")])
        )

    def waiting(self) -> set[str]:
        return {name for mail in self.state.unseen() for name in mail.attachment_names()}

    def released(self, folder: str) -> list[str]:
        found = []
        for mail in self.state.mails(folder):
            documents = [
                flag.removeprefix("ordergate-") for flag in mail.flags if flag.startswith("ordergate-")
            ]
            assert len(documents) == 1, mail.flags
            found.extend(f"{documents[0]}-{name}" for name in mail.attachment_names())
        return sorted(found)

    def delivered(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.outbound.iterdir() if p.is_file()}


async def email_harness(tmp_path: Path) -> tuple[EmailHarness, Callable[[], Awaitable[None]]]:
    inbound, outbound = tmp_path / "in", tmp_path / "out"
    inbound.mkdir()
    outbound.mkdir()
    stack = contextlib.ExitStack()
    imap = stack.enter_context(running_imap_server())
    smtp = stack.enter_context(running_smtp_server(SmtpCapture(drop_attachments_in=outbound)))
    settings = support.settings(
        imap.port,
        smtp.port,
        processed_folder="processed",
        failed_folder="failed",
        send_to=["edi@acme.example"],
    )
    harness = EmailHarness("email", settings, support.secrets(), inbound, outbound, imap.state)

    async def close() -> None:
        stack.close()

    return harness, close
