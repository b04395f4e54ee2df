"""Test identities: self-signed RSA certificates made with `cryptography`, written as PEM files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Identity:
    name: str
    key_pem: bytes
    cert_pem: bytes

    def write(self, folder: Path) -> tuple[Path, Path]:
        """The key and the certificate as files in `folder`: (key path, certificate path)."""
        folder.mkdir(parents=True, exist_ok=True)
        key, cert = folder / f"{self.name}.key.pem", folder / f"{self.name}.cert.pem"
        key.write_bytes(self.key_pem)
        cert.write_bytes(self.cert_pem)
        return key, cert


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make(
    name: str,
    *,
    key: rsa.RSAPrivateKey | None = None,
    valid_from: timedelta = timedelta(days=-1),
    valid_for: timedelta = timedelta(days=365),
    passphrase: bytes | None = None,
) -> Identity:
    key = key or _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.now(UTC) + valid_from
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return Identity(name, key_pem, certificate.public_bytes(serialization.Encoding.PEM))


@cache
def identity(name: str) -> Identity:
    """One identity per name for the whole run (RSA key generation is the slow part)."""
    return make(name)
