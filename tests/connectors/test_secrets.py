"""Secrets by name: from `ORDERGATE_SECRET_<NAME>`, else from `ORDERGATE_SECRETS_FILE` (TOML or .env),
which must not be readable by other users. Values never show in reprs or errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.channels import MissingSecret, Secrets
from gateway.core.errors import ConfigError


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_from_the_environment() -> None:
    secrets = Secrets({"ORDERGATE_SECRET_ACME_SFTP_PASSWORD": "env-value-1"})
    value = secrets.get("ACME_SFTP_PASSWORD")
    assert value.get_secret_value() == "env-value-1"
    assert "env-value-1" not in repr(value) and "env-value-1" not in str(value)


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("secrets.toml", 'ACME_SFTP_PASSWORD = "file-value-2"\nOTHER = "x"\n'),
        ("secrets.env", "# partner logins\nACME_SFTP_PASSWORD='file-value-2'\nOTHER=x\n"),
    ],
)
def test_from_a_private_file(tmp_path: Path, filename: str, text: str) -> None:
    path = private_file(tmp_path / filename, text)
    secrets = Secrets({"ORDERGATE_SECRETS_FILE": str(path)})
    assert secrets.get("ACME_SFTP_PASSWORD").get_secret_value() == "file-value-2"


def test_a_multi_line_private_key_from_toml(tmp_path: Path) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\ndef\n-----END OPENSSH PRIVATE KEY-----\n"
    path = private_file(tmp_path / "s.toml", f'ACME_KEY = """{key}"""\n')
    assert Secrets({"ORDERGATE_SECRETS_FILE": str(path)}).get("ACME_KEY").get_secret_value() == key


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = private_file(tmp_path / "s.toml", 'ACME_SFTP_PASSWORD = "from-file"\n')
    secrets = Secrets(
        {"ORDERGATE_SECRETS_FILE": str(path), "ORDERGATE_SECRET_ACME_SFTP_PASSWORD": "from-env"}
    )
    assert secrets.get("ACME_SFTP_PASSWORD").get_secret_value() == "from-env"


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602])
def test_a_file_other_users_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = private_file(tmp_path / "s.toml", 'ACME_SFTP_PASSWORD = "leaky-value"\n', mode)
    with pytest.raises(ConfigError) as caught:
        Secrets({"ORDERGATE_SECRETS_FILE": str(path)}).get("ACME_SFTP_PASSWORD")
    assert caught.value.code == "SECRETS_FILE_PERMISSIONS"
    assert f"chmod 600 {path}" in caught.value.message
    assert "leaky-value" not in str(caught.value)


def test_group_readable_is_accepted(tmp_path: Path) -> None:
    """A service group may share the file; only "other users" are refused."""
    path = private_file(tmp_path / "s.toml", 'ACME_SFTP_PASSWORD = "ok"\n', 0o640)
    assert Secrets({"ORDERGATE_SECRETS_FILE": str(path)}).get("ACME_SFTP_PASSWORD").get_secret_value() == "ok"


def test_a_missing_secret_says_where_to_set_it(tmp_path: Path) -> None:
    path = private_file(tmp_path / "s.toml", 'OTHER = "value-not-to-show"\n')
    with pytest.raises(MissingSecret) as caught:
        Secrets({"ORDERGATE_SECRETS_FILE": str(path)}).get("ACME_SFTP_PASSWORD")
    message = caught.value.message
    assert "ORDERGATE_SECRET_ACME_SFTP_PASSWORD" in message and str(path) in message
    assert "value-not-to-show" not in message


def test_a_broken_toml_file_is_reported_without_its_content(tmp_path: Path) -> None:
    path = private_file(tmp_path / "s.toml", 'ACME_SFTP_PASSWORD = "unterminated-secret\n')
    with pytest.raises(ConfigError) as caught:
        Secrets({"ORDERGATE_SECRETS_FILE": str(path)}).get("ACME_SFTP_PASSWORD")
    assert "line 1" in caught.value.message and "unterminated-secret" not in caught.value.message


def test_names_are_names() -> None:
    with pytest.raises(ConfigError, match="not a secret name"):
        Secrets({}).get("lower-case")


def test_the_process_environment_is_read_at_use_time(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = Secrets()
    monkeypatch.setenv("ORDERGATE_SECRET_ROTATED", "old")
    assert secrets.get("ROTATED").get_secret_value() == "old"
    monkeypatch.setenv("ORDERGATE_SECRET_ROTATED", "new")
    assert secrets.get("ROTATED").get_secret_value() == "new"
