"""E-mail channel settings: an IMAP mailbox polled for orders, an SMTP server for answers and documents.

Secrets are referenced by name. Unencrypted connections (`plain`) are refused for any host but this
machine: a mailbox password must never cross a network in clear text.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSettings, SecretName

Security = Literal["tls", "starttls", "plain"]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
IMAP_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
SMTP_PORTS = {"tls": 465, "starttls": 587, "plain": 25}

# IMAP folder names travel as quoted strings; non-ASCII names would need modified UTF-7 (RFC 3501 5.1.3).
_FOLDER = re.compile(r"^[\x20-\x7e]+$")


class EmailSettings(ConnectorSettings):
    imap_host: str | None = Field(default=None, description="IMAP server polled for inbound mail")
    imap_port: int | None = Field(default=None, ge=1, le=65535, description="Default: 993 (tls) or 143")
    imap_security: Security = Field(
        default="tls", description="tls (implicit, port 993), starttls, or plain (127.0.0.1 only)"
    )
    username: str | None = Field(default=None, description="Mailbox login")
    password_secret: SecretName | None = Field(default=None, description="Secret holding the password")
    folder: str = Field(default="INBOX", description="Folder whose unseen mail is taken in")
    processed_folder: str | None = Field(
        default=None, description="Where a confirmed mail moves (created if missing); unset: it stays, seen"
    )
    failed_folder: str | None = Field(
        default=None, description="Where a mail with a failed or refused document moves; unset: it stays"
    )
    tag_documents: bool = Field(
        default=True,
        description="Tag a confirmed mail with `ordergate-<document id>` keywords where the server allows",
    )
    max_message_bytes: int | None = Field(
        default=None,
        gt=0,
        description="Largest mail downloaded; default: twice the document limit plus 1 MiB",
    )
    batch_size: int = Field(default=50, ge=1, le=1000, description="Most mails taken per poll")

    smtp_host: str | None = Field(default=None, description="SMTP server for error answers and documents")
    smtp_port: int | None = Field(default=None, ge=1, le=65535, description="Default: 465, 587 or 25")
    smtp_security: Security = "starttls"
    smtp_login: bool = Field(default=True, description="Authenticate to the SMTP server")
    smtp_username: str | None = Field(default=None, description="Default: username")
    smtp_password_secret: SecretName | None = Field(default=None, description="Default: password_secret")
    from_address: str | None = Field(default=None, description="Sender of answers and documents")
    send_to: tuple[str, ...] = Field(default=(), description="Recipients of outbound documents")
    reply_on_failure: bool = Field(default=True, description="Answer a mail whose documents failed")
    replies_per_sender_per_hour: int = Field(default=5, ge=0, le=1000)
    null_reply_sender: bool = Field(
        default=True,
        description="Send answers with the empty envelope sender (MAIL FROM:<>) so they never bounce "
        "back into a loop; switch off for a server that refuses it",
    )
    tls_ca_file: Path | None = Field(default=None, description="CA bundle trusted for IMAP/SMTP TLS")
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("folder", "processed_folder", "failed_folder")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value is not None and (not _FOLDER.match(value) or '"' in value or "\\" in value):
            raise ValueError(
                "must be a folder name of printable ASCII characters without quotes or backslashes"
            )
        return value

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return _mail_address(value) if value is not None else None

    @field_validator("send_to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_mail_address(address) for address in value)

    @model_validator(mode="after")
    def _complete(self) -> EmailSettings:
        if not (self.imap_host or self.smtp_host):
            raise ValueError("set imap_host (to receive) and/or smtp_host (to answer and send)")
        for kind, host, security in (
            ("imap", self.imap_host, self.imap_security),
            ("smtp", self.smtp_host, self.smtp_security),
        ):
            if host and security == "plain" and host.lower() not in LOCAL_HOSTS:
                raise ValueError(
                    f"{kind}_security=plain sends the password unencrypted and is only allowed to "
                    f"127.0.0.1 or localhost, not {host}; use {kind}_security=tls or starttls"
                )
        if self.imap_host and not (self.username and self.password_secret):
            raise ValueError("an IMAP mailbox needs username and password_secret=NAME (the name of a secret)")
        if self.smtp_host and self.smtp_login and not (self.smtp_user and self.smtp_secret):
            raise ValueError(
                "SMTP login needs smtp_username or username, and smtp_password_secret or password_secret "
                "(or smtp_login=false for a relay that takes mail without login)"
            )
        if self.smtp_host and self.sender is None:
            raise ValueError("set from_address: the sender of answers and documents")
        return self

    @property
    def smtp_user(self) -> str | None:
        return self.smtp_username or self.username

    @property
    def smtp_secret(self) -> str | None:
        return self.smtp_password_secret or self.password_secret

    @property
    def sender(self) -> str | None:
        """The From address of what this channel sends: from_address, else a login that is an address."""
        if self.from_address:
            return self.from_address
        for login in (self.smtp_username, self.username):
            if login and "@" in login:
                return _mail_address(login)
        return None

    @property
    def imap_address(self) -> str:
        return f"{self.username}@{self.imap_host}:{self.imap_port or IMAP_PORTS[self.imap_security]}"

    @property
    def smtp_address(self) -> str:
        return f"{self.smtp_host}:{self.smtp_port or SMTP_PORTS[self.smtp_security]}"

    def message_limit(self, max_document_bytes: int) -> int:
        return self.max_message_bytes or 2 * max_document_bytes + (1 << 20)


def _mail_address(value: str) -> str:
    _, address = parseaddr(value)
    if not address or "@" not in address or any(c in value for c in "\r\n"):
        raise ValueError(f"{value!r} is not an e-mail address")
    return address


__all__ = ["IMAP_PORTS", "LOCAL_HOSTS", "SMTP_PORTS", "EmailSettings", "Security"]
