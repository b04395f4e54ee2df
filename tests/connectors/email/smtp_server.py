"""An SMTP server for tests (aiosmtpd, in its own thread on 127.0.0.1, a free port) that requires a
login and keeps every message it accepts, with its envelope. Optionally it also writes each message's
attachments into a folder, the way a partner's system would file what it receives."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

USER = "orders@gateway.example"
PASSWORD = "smtp-secret-0815"

# aiosmtpd logs a warning for AUTH offered without TLS: true, and this server is on 127.0.0.1.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Sent:
    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage


@dataclass
class SmtpCapture:
    port: int = 0
    sent: list[Sent] = field(default_factory=list)
    refuse: int | None = None  # answer every DATA with this code (e.g. 451) instead of accepting
    drop_attachments_in: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self) -> list[Sent]:
        with self.lock:
            return list(self.sent)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if not session.authenticated:  # aiosmtpd's auth_required without TLS warns at every start
            return "530 5.7.0 authentication required"
        if self.refuse is not None:
            return f"{self.refuse} not now"
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.sent.append(Sent(envelope.mail_from or "", tuple(envelope.rcpt_tos), message))
        if self.drop_attachments_in is not None:
            for part in message.iter_attachments():
                name = part.get_filename()
                payload = part.get_payload(decode=True)
                if name and isinstance(payload, bytes):
                    (self.drop_attachments_in / Path(name).name).write_bytes(payload)
        return "250 OK"


def _authenticator(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server(capture: SmtpCapture | None = None) -> Iterator[SmtpCapture]:
    handler = capture or SmtpCapture()
    handler.port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=handler.port,
        authenticator=_authenticator,
        auth_require_tls=False,
        enable_SMTPUTF8=True,
    )
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
