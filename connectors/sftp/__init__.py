"""SFTP (asyncssh): poll a partner's remote folder, upload documents to it.

settings.py   SftpSettings: server, pinned host key, secret names, folders and conventions
session.py    one pinned, authenticated connection; asyncssh errors → retryable or permanent
connector.py  poll / confirm / send / check
"""

from __future__ import annotations

from connectors.base import ChannelContext, Connector, ConnectorSpec, SecretSource
from connectors.sftp.settings import SftpSettings


def _build(settings: SftpSettings, secrets: SecretSource, context: ChannelContext) -> Connector:
    from connectors.sftp.connector import SftpConnector  # asyncssh is imported only when used

    return SftpConnector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind="sftp",
    label="SFTP server (asyncssh), host key pinned",
    settings=SftpSettings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into SftpSettings first
    inbound=True,
    outbound=True,
    poll=True,
    default_poll_seconds=60.0,
)

__all__ = ["SPEC", "SftpSettings"]
