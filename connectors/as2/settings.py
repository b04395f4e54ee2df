"""AS2 channel settings: who is who, where the keys are, which algorithms, how MDNs travel.

Key material is referenced, never stored: our private key (PEM, optionally with our certificate in the
same PEM) as a secret name or a file path, the same for our certificate and for the partner's pinned
certificate. Only modern algorithms are offered (SHA-2 digests, AES), RSA keys as pyas2lib supports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSettings, SecretName

# RFC 4130 §6.2: an AS2 name is 1 to 128 printable ASCII characters (quoted on the wire if needed).
_AS2_NAME = re.compile(r"^[!-~](?:[ -~]{0,126}[!-~])?$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,200}[A-Za-z0-9])?$")

Digest = Literal["sha256", "sha384", "sha512"]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value


class As2Settings(ConnectorSettings):
    as2_id: str = Field(description="Our AS2 name (AS2-To of what we receive, AS2-From of what we send)")
    partner_as2_id: str = Field(description="The partner's AS2 name")

    private_key_secret: SecretName | None = Field(
        default=None, description="Secret holding our RSA private key, PEM (our certificate may follow it)"
    )
    private_key_file: Path | None = Field(default=None, description="File holding the same, instead")
    private_key_passphrase_secret: SecretName | None = None
    certificate_secret: SecretName | None = Field(default=None, description="Our certificate, PEM")
    certificate_file: Path | None = None
    partner_certificate_secret: SecretName | None = Field(
        default=None, description="The partner's certificate (PEM), pinned: verifies and encrypts"
    )
    partner_certificate_file: Path | None = None

    partner_url: str | None = Field(default=None, description="The partner's AS2 URL (outbound)")
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    digest_algorithm: Digest = "sha256"
    signature_algorithm: Literal["rsassa_pkcs1v15", "rsassa_pss"] = "rsassa_pkcs1v15"
    encryption_algorithm: Literal["aes_128_cbc", "aes_192_cbc", "aes_256_cbc"] = "aes_256_cbc"
    key_encryption_algorithm: Literal["rsaes_pkcs1v15", "rsaes_oaep"] = "rsaes_pkcs1v15"
    mdn_mode: Literal["sync", "async", "none"] = Field(
        default="sync", description="How the partner returns the MDN for what we send"
    )
    mdn_signed: bool = Field(default=True, description="Ask for a signed MDN (and insist on it)")
    async_mdn_url: str | None = Field(
        default=None, description="Where the partner posts async MDNs: …/as2/<partner>/<channel>/mdn"
    )
    async_mdn_wait_seconds: float = Field(
        default=0.0, ge=0, le=3600, description="How long send() waits for an async MDN (0: not at all)"
    )
    require_signed: bool = Field(default=True, description="Refuse inbound messages that are not signed")
    require_encrypted: bool = Field(default=True, description="Refuse inbound messages not encrypted")
    content_type: str = Field(
        default="application/edi-consent",
        description="MIME type of what we send; text types go out with CRLF line ends (MIME canonical "
        "form), application/octet-stream goes out byte for byte",
    )
    subject: str = "EDI document"
    message_id_domain: str | None = Field(
        default=None, description="Right-hand side of our Message-IDs (default: derived from as2_id)"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)

    @field_validator("as2_id", "partner_as2_id")
    @classmethod
    def _as2_name(cls, value: str) -> str:
        if not _AS2_NAME.match(value):
            raise ValueError("must be 1-128 printable ASCII characters, not starting or ending with a space")
        return value

    @field_validator("partner_url", "async_mdn_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("message_id_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.match(value):
            raise ValueError("must be a domain name such as as2.example.com")
        return value

    @field_validator("content_type", "subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value or any(c in value for c in "\r\n\x00"):
            raise ValueError("must be one non-empty line")
        return value

    @model_validator(mode="after")
    def _complete(self) -> As2Settings:
        pairs = {
            "private_key": (self.private_key_secret, self.private_key_file),
            "partner_certificate": (self.partner_certificate_secret, self.partner_certificate_file),
        }
        for name, (secret, file) in pairs.items():
            if (secret is None) == (file is None):
                raise ValueError(f"set exactly one of {name}_secret=NAME or {name}_file=PATH")
        if self.certificate_secret is not None and self.certificate_file is not None:
            raise ValueError("set certificate_secret or certificate_file, not both")
        if self.mdn_mode == "async" and self.async_mdn_url is None:
            raise ValueError("mdn_mode=async needs async_mdn_url (our URL the partner posts MDNs to)")
        return self

    @property
    def domain(self) -> str:
        """The right-hand side of our Message-IDs: unique to us, stable across restarts."""
        if self.message_id_domain:
            return self.message_id_domain
        cleaned = re.sub(r"[^a-z0-9]+", "-", self.as2_id.lower()).strip("-") or "as2"
        return f"{cleaned}.as2.ordergate"
