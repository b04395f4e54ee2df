"""Our key pair and the partner's pinned certificate: read from secrets or files, checked with
`cryptography` (RSA, key matches certificate, validity dates), and handed to pyas2lib.

Errors name the setting and what is wrong, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.as2 import library
from connectors.as2.settings import As2Settings
from connectors.base import SecretSource
from gateway.core.errors import ConfigError

MDN_TEXT = "The AS2 message was received and stored by ordergate."


class KeyProblem(ConfigError):
    code = "AS2_KEYS"


def _read(secret: str | None, file: Path | None, secrets: SecretSource, what: str) -> bytes:
    if secret is not None:
        return secrets.get(secret).get_secret_value().encode()
    assert file is not None
    try:
        return file.read_bytes()
    except OSError as error:
        raise KeyProblem(f"{what} file {file} cannot be read: {error.strerror or error}") from None


def _certificates(data: bytes, what: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data) if b"-----BEGIN CERTIFICATE" in data else []
    except ValueError:
        raise KeyProblem(f"{what} holds a PEM certificate that cannot be read") from None


def _public(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """Our RSA key (re-encoded as unencrypted PKCS#8 PEM, in memory only, for pyas2lib) with its
    certificate, and the partner's certificate."""

    private_key_pem: bytes
    certificate: x509.Certificate
    partner_certificate: x509.Certificate

    def __repr__(self) -> str:
        return (
            f"KeyMaterial(certificate={self.certificate.subject.rfc4514_string()!r}, "
            f"partner={self.partner_certificate.subject.rfc4514_string()!r})"
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def partner_certificate_pem(self) -> bytes:
        return self.partner_certificate.public_bytes(serialization.Encoding.PEM)


def load(settings: As2Settings, secrets: SecretSource) -> KeyMaterial:
    """Read and check the key material; `KeyProblem` says which part is wrong."""
    key_data = _read(settings.private_key_secret, settings.private_key_file, secrets, "private_key")
    passphrase = (
        secrets.get(settings.private_key_passphrase_secret).get_secret_value().encode()
        if settings.private_key_passphrase_secret
        else None
    )
    try:
        key = serialization.load_pem_private_key(key_data, password=passphrase)
    except TypeError:
        raise KeyProblem(
            "the private key is encrypted: set private_key_passphrase_secret"
            if passphrase is None
            else "the private key is not encrypted: remove private_key_passphrase_secret"
        ) from None
    except ValueError:
        raise KeyProblem("the private key is not a PEM private key, or the passphrase is wrong") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem("the private key must be an RSA key (AS2 signing and encryption with pyas2lib)")

    if settings.certificate_secret or settings.certificate_file:
        own = _certificates(
            _read(settings.certificate_secret, settings.certificate_file, secrets, "certificate"),
            "certificate",
        )
    else:
        own = _certificates(key_data, "private_key")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    matching = [c for c in own if _public(c) == public]
    if not own:
        raise KeyProblem(
            "no certificate of ours: set certificate_secret/certificate_file, or append it to the key PEM"
        )
    if not matching:
        raise KeyProblem("our certificate does not belong to our private key (their public keys differ)")

    partner = _certificates(
        _read(
            settings.partner_certificate_secret,
            settings.partner_certificate_file,
            secrets,
            "partner_certificate",
        ),
        "partner_certificate",
    )
    if not partner:
        raise KeyProblem("partner_certificate holds no PEM certificate")
    if not isinstance(partner[0].public_key(), rsa.RSAPublicKey):
        raise KeyProblem("the partner's certificate must carry an RSA key")
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyMaterial(pkcs8, matching[0], partner[0])


def validity_problem(certificate: x509.Certificate, *, now: datetime | None = None) -> str | None:
    """Why the certificate is not valid now (expired, not yet valid), or None."""
    now = now or datetime.now(UTC)
    if now < certificate.not_valid_before_utc:
        return f"is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if now > certificate.not_valid_after_utc:
        return f"expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    return None


def organization(settings: As2Settings, material: KeyMaterial) -> Any:
    """pyas2lib's view of us: signs what we send and our MDNs, decrypts what we receive."""
    bundle = material.private_key_pem + material.certificate_pem
    return library.Organization(
        as2_name=settings.as2_id,
        sign_key=bundle,
        decrypt_key=bundle,
        mdn_url=settings.async_mdn_url,
        mdn_confirm_text=MDN_TEXT,
        domain=settings.domain,
    )


def partner(settings: As2Settings, material: KeyMaterial) -> Any:
    """pyas2lib's view of the partner. Its certificate is pinned: pyas2lib's own chain check is off
    (it only re-checks dates through pyOpenSSL's deprecated API); `validity_problem` checks dates."""
    cert = material.partner_certificate_pem
    mdn_mode = {"sync": "SYNC", "async": "ASYNC", "none": None}[settings.mdn_mode]
    return library.Partner(
        as2_name=settings.partner_as2_id,
        verify_cert=cert,
        encrypt_cert=cert,
        validate_certs=False,
        compress=settings.compress,
        encrypt=settings.encrypt,
        enc_alg=settings.encryption_algorithm,
        sign=settings.sign,
        digest_alg=settings.digest_algorithm,
        mdn_mode=mdn_mode,
        mdn_digest_alg=settings.digest_algorithm if settings.mdn_signed and mdn_mode else None,
        mdn_confirm_text=MDN_TEXT,
        sign_alg=settings.signature_algorithm,
        key_enc_alg=settings.key_encryption_algorithm,
    )


def inbound_partner(settings: As2Settings, material: KeyMaterial) -> Any:
    """The partner as inbound checks see it: `sign`/`encrypt` mean "must be" for what arrives."""
    base = partner(settings, material)
    base.sign, base.encrypt = settings.require_signed, settings.require_encrypted
    return base


__all__ = [
    "KeyMaterial",
    "KeyProblem",
    "inbound_partner",
    "load",
    "organization",
    "partner",
    "validity_problem",
]
