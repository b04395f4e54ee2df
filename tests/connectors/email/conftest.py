"""Fixtures for e-mail tests: the fake IMAP server and the capturing SMTP server, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.email.imap_server import ImapServer, running_imap_server
from tests.connectors.email.smtp_server import SmtpCapture, running_smtp_server


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    with running_imap_server() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    with running_smtp_server() as capture:
        yield capture
