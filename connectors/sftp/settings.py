"""SFTP channel settings. Secrets are referenced by name only; the host key must be pinned."""

from __future__ import annotations

import posixpath
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSettings, SecretName

_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")


class SftpSettings(ConnectorSettings):
    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1)
    password_secret: SecretName | None = Field(default=None, description="Secret holding the password")
    private_key_secret: SecretName | None = Field(
        default=None, description="Secret holding an OpenSSH/PEM private key"
    )
    private_key_passphrase_secret: SecretName | None = None
    known_hosts: str | None = Field(
        default=None, description="known_hosts line(s) for the server, as `ssh-keyscan` prints them"
    )
    host_key_fingerprint: str | None = Field(
        default=None, description="The server's pinned host key, SHA256:… as `ssh-keygen -lf` prints it"
    )
    folder: str = Field(default=".", description="Remote folder polled for inbound files")
    pattern: str = Field(default="*", description="Glob of the file names taken in")
    readiness: Literal["stable", "marker", "rename"] = Field(
        default="stable",
        description="stable: size and mtime unchanged across two polls; marker: a `<name><marker_suffix>` "
        "file exists; rename: the sender uploads under an ignored name and renames when done",
    )
    marker_suffix: str = ".done"
    ignore_patterns: tuple[str, ...] = (".*", "*.tmp", "*.part", "*.filepart")
    after_confirm: Literal["move", "delete"] = Field(
        default="move", description="What happens to an archived file: moved to processed_folder, or deleted"
    )
    processed_folder: str = "processed"
    failed_folder: str = "failed"
    outbound_folder: str = Field(default=".", description="Remote folder documents are uploaded to")
    timeout_seconds: float = Field(default=30.0, gt=0)
    connect_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("host_key_fingerprint")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        if value is not None and not _FINGERPRINT.match(value.strip()):
            raise ValueError(
                "must be a SHA256 fingerprint such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
            )
        return value.strip().rstrip("=") if value else value

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts(cls, value: str | None) -> str | None:
        if value is not None:
            import asyncssh  # only when the setting is given: the settings model stays light to import

            try:
                asyncssh.import_known_hosts(value)
            except ValueError:
                raise ValueError(
                    "must be known_hosts line(s): '<host or [host]:port> <key type> <base64 key>'"
                ) from None
        return value

    @field_validator("pattern", "marker_suffix")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or "/" in value or "\x00" in value:
            raise ValueError("must be a file name pattern without '/'")
        return value

    @model_validator(mode="after")
    def _pinned_and_authenticated(self) -> SftpSettings:
        if not (self.known_hosts or self.host_key_fingerprint):
            raise ValueError(
                "the server's host key must be pinned: set host_key_fingerprint=SHA256:… "
                "or known_hosts='<host> <key type> <key>'"
            )
        if not (self.password_secret or self.private_key_secret):
            raise ValueError("set password_secret=NAME or private_key_secret=NAME (the name of a secret)")
        return self

    def remote(self, folder: str) -> str:
        """A configured folder, relative to `folder` unless absolute."""
        return posixpath.normpath(posixpath.join(self.folder, folder))
