"""Fixtures for connector tests: an in-process SFTP server and a dictionary of secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.channels import MissingSecret
from tests.connectors.sftp_server import PASSWORD, SftpServer, start_sftp_server


class DictSecrets:
    """A `SecretSource` over a dictionary, recording which names were asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: list[str] = []

    def get(self, name: str) -> SecretStr:
        self.asked.append(name)
        if name not in self.values:
            raise MissingSecret(f"secret {name} is not set")
        return SecretStr(self.values[name])


@pytest.fixture
def secrets() -> DictSecrets:
    return DictSecrets({"ACME_SFTP_PASSWORD": PASSWORD})


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    server = await start_sftp_server(tmp_path / "sftp")
    try:
        yield server
    finally:
        await server.close()
