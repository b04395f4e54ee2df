"""`ordergate channels add|list|test` for an e-mail channel: IMAP login, folder and SMTP login are
checked, failures say which step and which secret, and no secret value ever reaches the output."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.settings import Settings
from tests.connectors.email import imap_server, smtp_server
from tests.connectors.email.imap_server import ImapServer, running_imap_server
from tests.connectors.email.smtp_server import SmtpCapture, running_smtp_server

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def servers() -> Iterator[tuple[ImapServer, SmtpCapture]]:
    with running_imap_server() as imap, running_smtp_server() as smtp:
        yield imap, smtp


@pytest.fixture
def hexa(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("ORDERGATE_SECRETS_FILE", raising=False)
    monkeypatch.setenv("ORDERGATE_SECRET_GW_IMAP_PASSWORD", imap_server.PASSWORD)
    monkeypatch.setenv("ORDERGATE_SECRET_GW_SMTP_PASSWORD", smtp_server.PASSWORD)
    code, output = cli("partners", "add", "hexa", "--edifact", "5412345000013:14")
    assert code == 0, output
    return settings


def add_email(imap: ImapServer, smtp: SmtpCapture, *extra: str) -> tuple[int, str]:
    return cli(
        "channels",
        "add",
        "hexa",
        "mail-in",
        "--kind",
        "email",
        "--set",
        "imap_host=127.0.0.1",
        "--set",
        f"imap_port={imap.port}",
        "--set",
        "imap_security=plain",
        "--set",
        f"username={imap_server.USER}",
        "--set",
        "password_secret=GW_IMAP_PASSWORD",
        "--set",
        "smtp_host=127.0.0.1",
        "--set",
        f"smtp_port={smtp.port}",
        "--set",
        "smtp_security=plain",
        "--set",
        "smtp_password_secret=GW_SMTP_PASSWORD",
        "--set",
        "processed_folder=processed",
        *extra,
    )


def test_add_list_and_test_an_email_channel(hexa: Settings, servers: tuple[ImapServer, SmtpCapture]) -> None:
    imap, smtp = servers
    code, output = add_email(imap, smtp)
    assert code == 0, output
    assert "channel hexa/mail-in: email, inbound, enabled, polled every 120s" in output
    assert "password_secret = GW_IMAP_PASSWORD  (secret name)" in output

    listed = json.loads(cli("channels", "list", "hexa", "--json")[1])["channels"]
    assert listed[0]["secrets"] == {
        "password_secret": "GW_IMAP_PASSWORD",
        "smtp_password_secret": "GW_SMTP_PASSWORD",
    }

    code, output = cli("channels", "test", "hexa", "mail-in")
    assert code == 0, output
    for step in (
        "imap connect",
        "imap login",
        "imap folder",
        "processed folder",
        "smtp connect",
        "smtp login",
    ):
        assert f"ok    {step}" in output, output
    assert imap.state.unseen() == [] and smtp.messages() == []  # a test moves nothing, sends nothing

    everything = "".join(
        [
            output,
            cli("channels", "list")[1],
            cli("channels", "list", "--json")[1],
            cli("channels", "test", "hexa", "--json")[1],
        ]
    )
    assert imap_server.PASSWORD not in everything and smtp_server.PASSWORD not in everything


def test_a_failing_step_is_named_and_exits_1(
    hexa: Settings, servers: tuple[ImapServer, SmtpCapture], monkeypatch: pytest.MonkeyPatch
) -> None:
    imap, smtp = servers
    assert add_email(imap, smtp, "--set", "folder=Orders")[0] == 0
    monkeypatch.setenv("ORDERGATE_SECRET_GW_SMTP_PASSWORD", "not-the-password")
    code, output = cli("channels", "test", "hexa", "mail-in")
    assert code == 1
    assert "ok    imap login" in output
    assert "FAIL  imap folder" in output and "folder Orders cannot be opened" in output
    assert "FAIL  smtp login" in output and "secret GW_SMTP_PASSWORD" in output
    assert "not-the-password" not in output


def test_plain_imap_to_another_host_is_refused_when_added(hexa: Settings) -> None:
    code, output = cli(
        "channels", "add", "hexa", "mail-in", "--kind", "email",
        "--set", "imap_host=mail.acme.example", "--set", "imap_security=plain",
        "--set", "username=x", "--set", "password_secret=GW_IMAP_PASSWORD",
    )  # fmt: skip
    assert code == 1
    assert "imap_security=plain sends the password unencrypted" in output
