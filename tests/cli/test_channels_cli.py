"""`ordergate channels add|list|test|remove` against a real SFTP server on 127.0.0.1: plain answers,
exit codes that scripts can trust, and secrets shown by name only."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.settings import Settings
from tests.connectors.sftp_server import PASSWORD, SftpServer, threaded_sftp_server

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SftpServer]:
    with threaded_sftp_server(tmp_path / "sftp") as running:
        yield running


@pytest.fixture
def hexa(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("ORDERGATE_SECRETS_FILE", raising=False)
    monkeypatch.setenv("ORDERGATE_SECRET_ACME_SFTP_PASSWORD", PASSWORD)
    code, output = cli("partners", "add", "hexa", "--edifact", "5412345000013:14")
    assert code == 0, output
    return settings


def add_sftp(server: SftpServer, *extra: str, name: str = "sftp-in") -> tuple[int, str]:
    return cli(
        "channels",
        "add",
        "hexa",
        name,
        "--kind",
        "sftp",
        "--direction",
        "both",
        "--set",
        "host=127.0.0.1",
        "--set",
        f"port={server.port}",
        "--set",
        "username=partner",
        "--set",
        "password_secret=ACME_SFTP_PASSWORD",
        "--set",
        f"host_key_fingerprint={server.fingerprint}",
        "--set",
        "folder=in",
        "--set",
        "outbound_folder=out",
        "--set",
        "connect_attempts=1",
        "--set",
        'ignore_patterns=[".*", "*.tmp"]',
        *extra,
    )


def test_add_list_test_remove(hexa: Settings, server: SftpServer) -> None:
    code, output = add_sftp(server, "--poll-seconds", "15")
    assert code == 0, output
    assert "channel hexa/sftp-in: sftp, both, enabled, polled every 15s" in output
    assert "password_secret = ACME_SFTP_PASSWORD  (secret name)" in output

    code, output = cli("channels", "list")
    assert code == 0 and "sftp-in" in output and "ACME_SFTP_PASSWORD" in output and "never" in output
    listed = json.loads(cli("channels", "list", "hexa", "--json")[1])["channels"]
    assert [(c["name"], c["kind"], c["direction"], c["enabled"]) for c in listed] == [
        ("sftp-in", "sftp", "both", True)
    ]
    assert listed[0]["secrets"] == {"password_secret": "ACME_SFTP_PASSWORD"}
    assert listed[0]["settings"]["ignore_patterns"] == [".*", "*.tmp"]

    code, output = cli("channels", "test", "hexa")
    assert code == 0, output
    for step in ("connect", "host key", "authentication", "inbound folder", "outbound folder"):
        assert any(line.strip().startswith("ok") and step in line for line in output.splitlines()), step

    code, output = cli("channels", "remove", "hexa", "sftp-in")
    assert code == 0 and "removed" in output
    assert cli("channels", "list", "hexa")[1].startswith("no channels yet")
    assert cli("channels", "remove", "hexa", "sftp-in")[0] == 1


def test_secrets_never_reach_the_output_or_the_database(hexa: Settings, server: SftpServer) -> None:
    assert add_sftp(server)[0] == 0
    outputs = [
        cli("channels", "list")[1],
        cli("channels", "list", "--json")[1],
        cli("channels", "test", "hexa", "--json")[1],
    ]
    assert all(PASSWORD not in output for output in outputs)
    with sqlite3.connect(hexa.home / "ordergate.db") as connection:
        dump = "\n".join(connection.iterdump())
    assert "ACME_SFTP_PASSWORD" in dump and PASSWORD not in dump


def test_a_clear_text_password_is_refused_without_echoing_it(hexa: Settings, server: SftpServer) -> None:
    code, output = add_sftp(server, "--set", "password=hunter2-typed-here", name="oops")
    assert code == 1
    assert "password: unknown setting (secrets are referenced by name: password_secret=NAME)" in output
    assert "hunter2-typed-here" not in output


def test_bad_password_fails_the_test_plainly(
    hexa: Settings, server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add_sftp(server)[0] == 0
    monkeypatch.setenv("ORDERGATE_SECRET_ACME_SFTP_PASSWORD", "a-wrong-password")
    code, output = cli("channels", "test", "hexa", "sftp-in")
    assert code == 1
    assert "FAIL  authentication" in output and "the server refused the credentials" in output
    assert "ok    host key" in output
    assert "a-wrong-password" not in output


def test_wrong_host_key_fails_the_test(hexa: Settings, server: SftpServer) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
    assert add_sftp(server, "--set", f"host_key_fingerprint={other}")[0] == 0
    code, output = cli("channels", "test", "hexa")
    assert code == 1
    assert "FAIL  host key" in output and server.fingerprint in output


def test_world_readable_secrets_file_fails_the_test(
    hexa: Settings, server: SftpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert add_sftp(server)[0] == 0
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"ACME_SFTP_PASSWORD={PASSWORD}\n")
    secrets_file.chmod(0o644)
    monkeypatch.delenv("ORDERGATE_SECRET_ACME_SFTP_PASSWORD")
    monkeypatch.setenv("ORDERGATE_SECRETS_FILE", str(secrets_file))
    code, output = cli("channels", "test", "hexa")
    assert code == 1 and f"chmod 600 {secrets_file}" in output and PASSWORD not in output
    secrets_file.chmod(0o600)
    assert cli("channels", "test", "hexa")[0] == 0


def test_settings_file_and_usage_errors(hexa: Settings, server: SftpServer, tmp_path: Path) -> None:
    settings_file = tmp_path / "acme.toml"
    settings_file.write_text(
        f'host = "127.0.0.1"\nport = {server.port}\nusername = "partner"\n'
        f'password_secret = "ACME_SFTP_PASSWORD"\nknown_hosts = "{server.known_hosts}"\nfolder = "in"\n'
    )
    code, output = cli(
        "channels", "add", "hexa", "from-file", "--kind", "sftp", "--settings-file", str(settings_file)
    )
    assert code == 0, output
    assert cli("channels", "test", "hexa", "from-file")[0] == 0

    code, output = cli("channels", "add", "hexa", "x", "--kind", "stfp")
    assert code == 1 and "did you mean 'sftp'" in output
    code, output = cli("channels", "add", "hexa", "Bad Name", "--kind", "folder", "--set", "path=/tmp")
    assert code == 1 and "channel name" in output
    code, output = cli("channels", "add", "hexa", "x", "--kind", "folder", "--set", "no-equals-sign")
    assert code == 2 and "KEY=VALUE" in output
    code, output = cli("channels", "test", "nobody")
    assert code == 1 and "has no channels" in output
