"""Helpers for e-mail tests: mails as a partner's client would write them, channel settings for the
test servers, and a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from tests.connectors.conftest import DictSecrets
from tests.connectors.email import imap_server, smtp_server

PARTNER = "Jane Buyer <jane@acme.example>"
SECRETS = {"GW_IMAP_PASSWORD": imap_server.PASSWORD, "GW_SMTP_PASSWORD": smtp_server.PASSWORD}


def secrets() -> DictSecrets:
    return DictSecrets(SECRETS)


def mail(
    *,
    subject: str = "Order 4711",
    text: str = "Hello, please find our order attached.\n\nJane",
    attachments: Iterable[tuple[str, bytes, str]] = (),
    sender: str = PARTNER,
    headers: Mapping[str, str] | None = None,
    inline_image: bool = False,
) -> bytes:
    """A mail as a mail client writes it: a text, attachments (name, bytes, content type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "orders@gateway.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC))
    message["Message-ID"] = make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if inline_image:
        message.add_alternative(f"<p>{text}</p><img src='cid:logo'>", subtype="html")
        html = message.get_payload()[1]  # type: ignore[index]
        html.add_related(
            b"\x89PNG\r\n\x1a\nlogo", maintype="image", subtype="png", cid="<logo>", filename="logo.png"
        )
    for name, data, content_type in attachments:
        main, _, sub = content_type.partition("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def mail_headers(raw: bytes) -> EmailMessage:
    from email import message_from_bytes
    from email.policy import default

    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text_of(message: EmailMessage) -> str:
    """A sent mail's text, with the CRLF line ends of the wire undone."""
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content()).replace("\r\n", "\n")


def settings(imap: int | None, smtp: int | None, **overrides: Any) -> dict[str, Any]:
    """Channel settings for the test servers (plain connections: 127.0.0.1 only)."""
    found: dict[str, Any] = {"from_address": "orders@gateway.example"}
    if imap is not None:
        found |= {
            "imap_host": "127.0.0.1",
            "imap_port": imap,
            "imap_security": "plain",
            "username": imap_server.USER,
            "password_secret": "GW_IMAP_PASSWORD",
            "timeout_seconds": 5,
        }
    if smtp is not None:
        found |= {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp,
            "smtp_security": "plain",
            "smtp_username": smtp_server.USER,
            "smtp_password_secret": "GW_SMTP_PASSWORD",
            "timeout_seconds": 5,
        }
    return found | overrides


def certificate(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 and localhost; its PEM file (to trust) and a server
    context serving it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ordergate test server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context
