"""SFTP specifics against a real asyncssh server on 127.0.0.1: host-key pinning, logins, error
classes, names a server may list, atomic uploads with and without posix-rename, readiness conventions,
and what happens to remote files after `confirm`."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from connectors import registry
from connectors.base import ChannelContext, InboundConnector, OutboundConnector
from connectors.sftp.connector import SftpConnector
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable
from tests.connectors.conftest import DictSecrets
from tests.connectors.sftp_server import PASSWORD, USER, SftpServer, start_sftp_server

CONTEXT = ChannelContext("sftp-in", "acme", 1000, "both")


def build(settings: dict[str, Any], secrets: DictSecrets) -> SftpConnector:
    connector = registry.build("sftp", settings, secrets, context=CONTEXT)
    assert isinstance(connector, SftpConnector)
    return connector


@pytest.fixture
async def opened(sftp_server: SftpServer, secrets: DictSecrets) -> AsyncIterator[SftpConnector]:
    connector = build(sftp_server.channel_settings(), secrets)
    yield connector
    await connector.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Host keys and logins ---------------------------------------------------------------------------------


async def test_a_known_hosts_entry_pins_the_key(sftp_server: SftpServer, secrets: DictSecrets) -> None:
    settings = sftp_server.channel_settings(host_key_fingerprint=None, known_hosts=sftp_server.known_hosts)
    connector = build(settings, secrets)
    try:
        assert all(check.ok for check in await connector.check())
    finally:
        await connector.aclose()


@pytest.mark.parametrize("pin", ["fingerprint", "known_hosts"])
async def test_an_unknown_host_key_is_refused(
    sftp_server: SftpServer, secrets: DictSecrets, pin: str
) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    if pin == "fingerprint":
        settings = sftp_server.channel_settings(host_key_fingerprint=other.get_fingerprint("sha256"))
    else:
        line = f"[127.0.0.1]:{sftp_server.port} {other.export_public_key('openssh').decode().strip()}"
        settings = sftp_server.channel_settings(host_key_fingerprint=None, known_hosts=line)
    connector = build(settings, secrets)
    try:
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
        assert caught.value.code == "SFTP_HOST_KEY" and not caught.value.retryable
        assert "not the pinned one" in caught.value.message
        assert sftp_server.fingerprint in caught.value.message  # what the server presented, to verify
        assert secrets.asked == ["ACME_SFTP_PASSWORD"] and PASSWORD not in caught.value.message
        checks = await connector.check()
        assert [(c.name, c.ok) for c in checks] == [("host key", False)]
    finally:
        await connector.aclose()
    assert sftp_server.log.events == []  # no SFTP session was ever opened


def test_a_host_key_must_be_pinned() -> None:
    with pytest.raises(ConfigError, match="host key must be pinned"):
        registry.parse_settings("sftp", {"host": "h", "username": "u", "password_secret": "P"})
    with pytest.raises(ConfigError, match=r"host_key_fingerprint: .*SHA256"):
        registry.parse_settings(
            "sftp", {"host": "h", "username": "u", "password_secret": "P", "host_key_fingerprint": "md5:ab"}
        )


async def test_a_wrong_password_is_a_permanent_clear_error(sftp_server: SftpServer) -> None:
    wrong = DictSecrets({"ACME_SFTP_PASSWORD": "not-the-password-123"})
    connector = build(sftp_server.channel_settings(), wrong)
    try:
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
        assert caught.value.code == "SFTP_AUTH" and not caught.value.retryable
        assert (
            "authentication failed" in caught.value.message and "ACME_SFTP_PASSWORD" in caught.value.message
        )
        assert "not-the-password-123" not in str(caught.value)
        checks = await connector.check()
        assert [(c.name, c.ok) for c in checks] == [("host key", True), ("authentication", False)]
    finally:
        await connector.aclose()


async def test_private_key_login_with_passphrase(tmp_path: Path) -> None:
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    public = client_key.export_public_key("openssh").decode()
    server = await start_sftp_server(tmp_path / "sftp", passwords={}, authorized_keys=public)
    secrets = DictSecrets(
        {
            "ACME_KEY": client_key.export_private_key(
                "openssh", passphrase="pass phrase", rounds=50
            ).decode(),
            "ACME_KEY_PASS": "pass phrase",
        }
    )
    settings = server.channel_settings(
        password_secret=None, private_key_secret="ACME_KEY", private_key_passphrase_secret="ACME_KEY_PASS"
    )
    connector = build(settings, secrets)
    try:
        assert all(check.ok for check in await connector.check())
        bad = build(settings, DictSecrets(secrets.values | {"ACME_KEY_PASS": "wrong"}))
        with pytest.raises(ConfigError, match="private key in secret ACME_KEY cannot be read"):
            await bad.poll()
    finally:
        await connector.aclose()
        await server.close()


async def test_a_missing_secret_names_where_to_set_it(sftp_server: SftpServer) -> None:
    connector = build(sftp_server.channel_settings(), DictSecrets({}))
    checks = await connector.check()
    assert [(c.name, c.ok) for c in checks] == [("secrets", False)]
    assert "ACME_SFTP_PASSWORD" in checks[0].detail


async def test_an_unreachable_server_is_retryable(secrets: DictSecrets, sftp_server: SftpServer) -> None:
    settings = sftp_server.channel_settings(port=free_port(), connect_attempts=2)
    connector = build(settings, secrets)
    with pytest.raises(ConnectorUnavailable) as caught:
        await connector.poll()
    assert caught.value.retryable and caught.value.code == "SFTP_UNAVAILABLE"
    assert "connection refused" in caught.value.message


async def test_a_missing_inbound_folder_is_named(sftp_server: SftpServer, secrets: DictSecrets) -> None:
    connector = build(sftp_server.channel_settings(folder="nowhere"), secrets)
    try:
        with pytest.raises(ConnectorRejected) as caught:
            await connector.poll()
        assert caught.value.code == "SFTP_NO_SUCH_PATH" and "nowhere" in caught.value.message
        checks = {c.name: c for c in await connector.check()}
        assert not checks["inbound folder"].ok and "does not exist" in checks["inbound folder"].detail
        assert checks["outbound folder"].ok
    finally:
        await connector.aclose()


# Names ------------------------------------------------------------------------------------------------


async def test_listed_names_that_are_paths_are_never_fetched(tmp_path: Path, secrets: DictSecrets) -> None:
    server = await start_sftp_server(
        tmp_path / "sftp", fake_names=["../../etc/passwd", "a/b", "..", "x\\..\\y"]
    )
    (server.root / "in" / "po.edi").write_bytes(b"UNB+real'")
    connector = build(server.channel_settings(readiness="rename"), secrets)
    try:
        items = await connector.poll()
    finally:
        await connector.aclose()
        await server.close()
    assert [(i.filename, i.payload) for i in items] == [("po.edi", b"UNB+real'")]
    assert [path for op, path, _ in server.log.events if op.startswith("open")] == ["in/po.edi"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sftp"]  # nothing written beside the server root


# Outbound ---------------------------------------------------------------------------------------------


async def test_upload_is_never_visible_half_written(opened: SftpConnector, sftp_server: SftpServer) -> None:
    receipt = await opened.send(b"x" * 50_000, filename="ordrsp-7.edi")
    assert receipt.details["rename"] == "posix-rename" and receipt.remote_ref == "out/ordrsp-7.edi"
    written = sftp_server.log.opened_for_write()
    assert "out/ordrsp-7.edi" not in written  # the final name is only ever made by a rename
    ((source, target),) = sftp_server.log.renames()
    assert target == "out/ordrsp-7.edi" and source in written
    assert source.startswith("out/.ordrsp-7.edi.") and source.endswith(".part")  # hidden, same folder
    assert (sftp_server.root / "out" / "ordrsp-7.edi").read_bytes() == b"x" * 50_000


async def test_upload_without_posix_rename(tmp_path: Path, secrets: DictSecrets) -> None:
    server = await start_sftp_server(tmp_path / "sftp", posix_rename=False)
    connector = build(server.channel_settings(), secrets)
    try:
        assert isinstance(connector, OutboundConnector)
        receipt = await connector.send(b"first", filename="desadv-1.edi")
        assert receipt.details["rename"] == "rename"
        with pytest.raises(ConnectorRejected) as caught:
            await connector.send(b"second", filename="desadv-1.edi")
        assert caught.value.code == "SFTP_TARGET_EXISTS"
    finally:
        await connector.aclose()
        await server.close()
    assert [p.name for p in (server.root / "out").iterdir()] == ["desadv-1.edi"]  # temporary file removed
    assert (server.root / "out" / "desadv-1.edi").read_bytes() == b"first"


# Readiness and release ---------------------------------------------------------------------------------


async def test_marker_readiness(sftp_server: SftpServer, secrets: DictSecrets) -> None:
    connector = build(sftp_server.channel_settings(readiness="marker"), secrets)
    inbox = sftp_server.root / "in"
    (inbox / "po.edi").write_bytes(b"UNB+1'")
    try:
        assert await connector.poll() == []
        assert await connector.poll() == []  # stable, but no marker yet
        (inbox / "po.edi.done").write_bytes(b"")
        (item,) = await connector.poll()
        await connector.confirm(item, document_id="D1", accepted=True)
    finally:
        await connector.aclose()
    assert sorted(p.name for p in inbox.iterdir()) == ["processed"]  # marker removed too


async def test_rename_readiness_ignores_temporary_names(
    sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    connector = build(sftp_server.channel_settings(readiness="rename"), secrets)
    inbox = sftp_server.root / "in"
    (inbox / "po.edi.part").write_bytes(b"UNB+half")
    (inbox / ".po2.edi").write_bytes(b"UNB+hidden")
    try:
        assert await connector.poll() == []
        (inbox / "po.edi.part").rename(inbox / "po.edi")
        assert [i.filename for i in await connector.poll()] == ["po.edi"]  # at once: renamed means done
    finally:
        await connector.aclose()


async def test_delete_after_confirm_keeps_refused_files(
    sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    connector = build(sftp_server.channel_settings(after_confirm="delete", readiness="rename"), secrets)
    inbox = sftp_server.root / "in"
    (inbox / "ok.edi").write_bytes(b"UNB+ok'")
    (inbox / "bad.edi").write_bytes(b"junk")
    (inbox / "big.edi").write_bytes(b"x" * 2000)
    try:
        items = {i.filename: i for i in await connector.poll()}
        await connector.confirm(items["ok.edi"], document_id="D1", accepted=True)
        await connector.confirm(items["bad.edi"], document_id="D2", accepted=False)
        await connector.confirm(items["big.edi"], document_id="D3", accepted=False)
    finally:
        await connector.aclose()
    assert sorted(p.name for p in inbox.iterdir()) == ["failed"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["D2-bad.edi", "D3-big.edi"]


async def test_a_failed_release_is_retried_before_anything_is_taken_again(
    sftp_server: SftpServer, secrets: DictSecrets
) -> None:
    connector = build(sftp_server.channel_settings(pattern="*.edi"), secrets)
    inbox = sftp_server.root / "in"
    (inbox / "po.edi").write_bytes(b"UNB+1'")
    (inbox / "processed").write_bytes(b"a file where the folder should be")
    try:
        assert isinstance(connector, InboundConnector)
        await connector.poll()
        (item,) = await connector.poll()
        with pytest.raises(ConnectorUnavailable):
            await connector.confirm(item, document_id="D1", accepted=True)
        with pytest.raises(ConnectorUnavailable):
            await connector.poll()  # the release is retried first, and still fails: nothing new offered
        (inbox / "processed").unlink()
        assert await connector.poll() == []  # released now, and not offered a second time
    finally:
        await connector.aclose()
    assert [p.name for p in (inbox / "processed").iterdir()] == ["D1-po.edi"]


async def test_user_and_port_show_in_errors_but_never_the_password(sftp_server: SftpServer) -> None:
    connector = build(sftp_server.channel_settings(), DictSecrets({"ACME_SFTP_PASSWORD": "wrong-pw-42"}))
    with pytest.raises(ConnectorRejected) as caught:
        await connector.poll()
    assert f"{USER}@127.0.0.1:{sftp_server.port}" in caught.value.message
    assert "wrong-pw-42" not in caught.value.message and "wrong-pw-42" not in repr(connector)


def test_a_known_hosts_setting_must_parse() -> None:
    base = {"host": "h", "username": "u", "password_secret": "P"}
    with pytest.raises(ConfigError, match=r"known_hosts: .*must be known_hosts line"):
        registry.parse_settings("sftp", base | {"known_hosts": "garbage"})
