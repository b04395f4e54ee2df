"""The AS2 parts on their own: settings, key material, MDN options, the store (SQLite and PostgreSQL),
and the migration against the models."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlalchemy.engine import Connection

from connectors import registry
from connectors.as2 import keys, mdn
from connectors.as2.settings import As2Settings
from connectors.as2.store import As2Store
from gateway.core.errors import ConfigError
from gateway.storage.database import Database
from gateway.storage.models import As2Received, Base
from tests.connectors.as2.pki import identity, make
from tests.connectors.conftest import DictSecrets


def base(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    key, cert = identity("OURS").write(tmp_path)
    _, partner = identity("THEIRS").write(tmp_path)
    return {
        "as2_id": "OURS",
        "partner_as2_id": "THEIRS",
        "private_key_file": str(key),
        "certificate_file": str(cert),
        "partner_certificate_file": str(partner),
    } | changes


def test_settings_refuse_what_cannot_work(tmp_path: Path) -> None:
    good = base(tmp_path)
    assert isinstance(registry.parse_settings("as2", good), As2Settings)
    cases = {
        "set exactly one of private_key_secret": base(tmp_path, private_key_secret="OURS_KEY"),
        "as2_id: Value error, must be 1-128 printable": base(tmp_path, as2_id=" OURS"),
        "partner_url: Value error, must be an http": base(tmp_path, partner_url="ftp://partner/as2"),
        "mdn_mode=async needs async_mdn_url": base(tmp_path, mdn_mode="async"),
        "encryption_algorithm": base(tmp_path, encryption_algorithm="tripledes_192_cbc"),
        "digest_algorithm": base(tmp_path, digest_algorithm="md5"),
        "subject: Value error, must be one non-empty line": base(tmp_path, subject="a\r\nBcc: x"),
    }
    for expected, settings in cases.items():
        with pytest.raises(ConfigError, match=expected):
            registry.parse_settings("as2", settings)


def test_the_message_id_domain_is_stable_and_safe(tmp_path: Path) -> None:
    settings = As2Settings.model_validate(base(tmp_path, as2_id="Acme Corp/EU"))
    assert settings.domain == "acme-corp-eu.as2.ordergate"
    assert (
        As2Settings.model_validate(base(tmp_path, message_id_domain="as2.example.com")).domain
        == "as2.example.com"
    )


def test_keys_load_from_a_secret_with_a_passphrase(tmp_path: Path) -> None:
    locked = make("LOCKED", passphrase=b"s3cret")
    _, partner = identity("THEIRS").write(tmp_path)
    settings = As2Settings(
        as2_id="OURS",
        partner_as2_id="THEIRS",
        private_key_secret="OURS_KEY",
        private_key_passphrase_secret="OURS_PASS",
        certificate_secret="OURS_CERT",
        partner_certificate_file=partner,
    )
    values = {
        "OURS_KEY": locked.key_pem.decode(),
        "OURS_CERT": locked.cert_pem.decode(),
        "OURS_PASS": "s3cret",
    }
    material = keys.load(settings, DictSecrets(values))
    assert material.certificate.subject.rfc4514_string() == "CN=LOCKED"
    assert b"ENCRYPTED" not in material.private_key_pem
    assert "s3cret" not in repr(material) and "PRIVATE" not in repr(material)
    with pytest.raises(keys.KeyProblem, match="passphrase is wrong"):
        keys.load(settings, DictSecrets(values | {"OURS_PASS": "wrong"}))
    with pytest.raises(keys.KeyProblem, match="set private_key_passphrase_secret"):
        keys.load(settings.model_copy(update={"private_key_passphrase_secret": None}), DictSecrets(values))


def test_keys_that_do_not_fit_are_named(tmp_path: Path) -> None:
    other = identity("OTHER").write(tmp_path / "other")[1]
    mismatch = As2Settings.model_validate(base(tmp_path, certificate_file=str(other)))
    with pytest.raises(keys.KeyProblem, match="does not belong to our private key"):
        keys.load(mismatch, DictSecrets({}))

    no_cert = As2Settings.model_validate(base(tmp_path, certificate_file=None))
    with pytest.raises(keys.KeyProblem, match="no certificate of ours"):
        keys.load(no_cert, DictSecrets({}))

    ec_identity = make("EC", key=ec.generate_private_key(ec.SECP256R1()))  # type: ignore[arg-type]
    ec_key, ec_cert = ec_identity.write(tmp_path / "ec")
    ec_settings = base(tmp_path, private_key_file=str(ec_key), certificate_file=str(ec_cert))
    with pytest.raises(keys.KeyProblem, match="must be an RSA key"):
        keys.load(As2Settings.model_validate(ec_settings), DictSecrets({}))

    bundled = tmp_path / "bundle.pem"  # the certificate may follow the key in one PEM
    bundled.write_bytes(identity("OURS").key_pem + identity("OURS").cert_pem)
    one_file = As2Settings.model_validate(
        base(tmp_path, private_key_file=str(bundled), certificate_file=None)
    )
    assert keys.load(one_file, DictSecrets({})).certificate.subject.rfc4514_string() == "CN=OURS"

    missing = As2Settings.model_validate(base(tmp_path, partner_certificate_file=str(tmp_path / "nope.pem")))
    with pytest.raises(keys.KeyProblem, match=r"partner_certificate file .*nope\.pem cannot be read"):
        keys.load(missing, DictSecrets({}))


def test_certificate_dates_are_checked() -> None:
    expired = make("OLD", valid_from=timedelta(days=-400), valid_for=timedelta(days=30))
    future = make("NEW", valid_from=timedelta(days=10))
    from cryptography import x509

    assert "expired on" in (keys.validity_problem(x509.load_pem_x509_certificate(expired.cert_pem)) or "")
    assert "not valid before" in (
        keys.validity_problem(x509.load_pem_x509_certificate(future.cert_pem)) or ""
    )
    assert keys.validity_problem(x509.load_pem_x509_certificate(identity("OURS").cert_pem)) is None


async def test_an_expired_partner_certificate_fails_check_and_refuses_to_send(tmp_path: Path) -> None:
    from connectors.as2.connector import As2Connector
    from connectors.base import ChannelContext
    from gateway.core.errors import ConnectorRejected

    old = make("OLD-PARTNER", valid_from=timedelta(days=-400), valid_for=timedelta(days=30))
    partner = old.write(tmp_path / "old")[1]
    settings = As2Settings.model_validate(
        base(tmp_path, partner_certificate_file=str(partner), partner_url="http://127.0.0.1:9/as2")
    )
    connector = As2Connector(settings, DictSecrets({}), ChannelContext("as2", "acme", 1000, "inbound"))
    checks = {c.name: c for c in await connector.check()}
    assert checks["key pair"].ok and checks["our certificate"].ok
    assert not checks["partner certificate"].ok and "expired on" in checks["partner certificate"].detail
    assert not checks["pyas2lib"].ok
    assert "partner url" not in checks  # an inbound channel sends nothing
    with pytest.raises(ConnectorRejected, match="expired on"):
        await connector.send(b"data", filename="x.edi")
    await connector.aclose()


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (
            "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256",
            "sha256",
        ),
        (
            "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, md5, sha1, sha512",
            "sha512",
        ),
        ("signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha1", "sha256"),
        ("signed-receipt-protocol=optional, pkcs7-signature", "sha256"),
    ],
)
def test_signed_mdn_digest_is_the_first_sha2_offered(options: str, chosen: str) -> None:
    assert mdn._micalg(options) == chosen


def test_what_the_sender_asked_for() -> None:
    assert mdn.requested({"AS2-From": "x"}) is None
    assert mdn.requested({"Disposition-Notification-To": "a@b"}) == mdn.MdnRequest(False, None)
    asked = mdn.requested(
        {
            "disposition-notification-to": "a@b",
            "disposition-notification-options": "signed-receipt-protocol=optional, pkcs7-signature",
            "receipt-delivery-option": " http://partner/mdn ",
        }
    )
    assert asked == mdn.MdnRequest(True, "http://partner/mdn")
    assert str(mdn.refused("decryption-failed")) == "processed/error: decryption-failed"
    assert mdn.STORED.positive and not mdn.refused("x").positive


# Store ----------------------------------------------------------------------------------------------


async def test_claims_make_one_document_per_message_id(database: Database) -> None:
    store = As2Store(database)
    key: dict[str, str] = {"as2_from": "THEIRS", "as2_to": "OURS", "message_id": "m-1@theirs"}
    claim = await store.claim(partner_id="acme", channel="as2", sha256="a" * 64, **key)
    assert claim.state == "new"
    assert (await store.claim(partner_id="acme", channel="as2", sha256="a" * 64, **key)).state == "busy"
    await store.settle(document_id="DOC1", **key)
    assert await store.claim(partner_id="acme", channel="as2", sha256="a" * 64, **key) == type(claim)(
        "taken", "DOC1"
    )
    conflict = await store.claim(partner_id="acme", channel="as2", sha256="b" * 64, **key)
    assert (conflict.state, conflict.document_id) == ("conflict", "DOC1")

    other = {**key, "message_id": "m-2@theirs"}
    assert (await store.claim(partner_id="acme", channel="as2", sha256="c" * 64, **other)).state == "new"
    await store.settle(document_id=None, **other)  # the archive failed: released at once
    assert (await store.claim(partner_id="acme", channel="as2", sha256="c" * 64, **other)).state == "new"
    # A claim a crash left behind is taken over once its lease has run out.
    async with database.transaction() as session:
        await session.execute(
            update(As2Received)
            .where(As2Received.message_id == "m-2@theirs")
            .values(claimed_at=As2Received.claimed_at - timedelta(hours=1))
        )
    assert (await store.claim(partner_id="acme", channel="as2", sha256="c" * 64, **other)).state == "new"


async def test_sent_messages_keep_their_mdn_verdict(database: Database) -> None:
    store = As2Store(database)
    facts: dict[str, Any] = {
        "partner_id": "acme",
        "channel": "as2",
        "as2_from": "OURS",
        "as2_to": "THEIRS",
        "filename": "x.edi",
        "sha256": "a" * 64,
        "mic": "bWlj",
        "mic_algorithm": "sha256",
        "mdn_mode": "async",
    }
    await store.sending(message_id="s-1@ours", **facts)
    # The async MDN overtakes the HTTP response: the later "awaiting" must not erase its verdict.
    await store.update_sent("s-1@ours", status="processed", disposition="processed")
    await store.update_sent("s-1@ours", status="awaiting_mdn")
    sent = await store.get_sent("s-1@ours")
    assert sent is not None and (sent.status, sent.mic, sent.mdn_at is not None) == (
        "processed",
        "bWlj",
        True,
    )
    await store.sending(message_id="s-1@ours", **facts)  # sent again: starts over
    again = await store.get_sent("s-1@ours")
    assert again is not None and (again.status, again.mdn_at) == ("sending", None)
    assert await store.get_sent("nope") is None


async def test_migration_0006_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:

        def differences(sync_connection: Connection) -> list[Any]:
            context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        diff = await connection.run_sync(differences)
    assert [d for d in diff if "as2_" in repr(d)] == []
