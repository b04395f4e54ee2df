"""The registry of transports and the helpers of the contract: kinds, plugins through entry points,
settings errors that never echo values, declared capabilities, display names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors import base, registry
from connectors.base import (
    ChannelContext,
    ConnectorSettings,
    ConnectorSpec,
    SecretSource,
    display_name,
    single_component,
)
from connectors.folder import FolderConnector
from gateway.core.errors import ConfigError
from tests.connectors.conftest import DictSecrets


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.specs.cache_clear()
    yield
    registry.specs.cache_clear()


def test_builtin_kinds() -> None:
    # Other built-ins join this list as they are written: check the ones this file knows, and the order.
    assert {"folder", "sftp", "shopify-rest", "woocommerce-rest", "amazon-spapi"} <= set(registry.kinds())
    assert registry.kinds() == tuple(sorted(registry.kinds()))
    assert registry.get("sftp").directions() == ("inbound", "outbound", "both")


def test_unknown_kind_suggests_the_near_one() -> None:
    with pytest.raises(ConfigError, match="did you mean 'sftp'"):
        registry.get("sfpt")
    with pytest.raises(ConfigError, match=r"known kinds: [a-z0-9, -]*\bfolder, [a-z0-9, -]*\bsftp\b"):
        registry.get("carrier-pigeon")


class _EchoSettings(ConnectorSettings):
    target: str


def _factory(settings: Any, secrets: SecretSource, context: ChannelContext) -> FolderConnector:
    return FolderConnector(Path("unused"), max_bytes=context.max_document_bytes, channel=context.channel)


def test_a_plugin_registers_through_its_entry_point(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ConnectorSpec(
        kind="echo",
        label="test plugin",
        settings=_EchoSettings,
        factory=_factory,
        inbound=False,
        outbound=True,
    )

    class EntryPoint:
        def load(self) -> ConnectorSpec:
            return spec

    monkeypatch.setattr(
        registry, "entry_points", lambda group: [EntryPoint()] if group == registry.ENTRY_POINT_GROUP else []
    )
    assert "echo" in registry.kinds()
    built = registry.build("echo", {"target": "x"}, DictSecrets({}), context=ChannelContext("c", None, 10))
    assert isinstance(built, FolderConnector) and built.channel == "c"


def test_capabilities_must_agree() -> None:
    with pytest.raises(ValueError, match="either polls or is pushed"):
        ConnectorSpec(
            kind="x", label="x", settings=_EchoSettings, factory=_factory, inbound=True, outbound=False
        )


def test_settings_errors_name_fields_never_values() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.parse_settings(
            "sftp", {"host": "h", "port": "two-thousand", "username": "u", "secret_sauce": "v4lue"}
        )
    message = caught.value.message
    assert "port: Input should be a valid integer" in message
    assert "secret_sauce: unknown setting" in message
    assert "two-thousand" not in message and "v4lue" not in message


def test_secret_names_are_what_settings_expose() -> None:
    settings = registry.parse_settings(
        "sftp",
        {
            "host": "h",
            "username": "u",
            "password_secret": "ACME_PW",
            "private_key_secret": "ACME_KEY",
            "host_key_fingerprint": "SHA256:" + "A" * 43,
        },
    )
    assert settings.secret_names() == {"password_secret": "ACME_PW", "private_key_secret": "ACME_KEY"}
    with pytest.raises(ConfigError, match="password_secret"):
        registry.parse_settings("sftp", {"host": "h", "username": "u", "password_secret": "not a name"})


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("a/b", "b"),
        ("C:\\temp\\po.edi", "po.edi"),
        ("/absolute/po.edi", "po.edi"),
        ("..", "unnamed"),
        ("", "unnamed"),
        (None, "unnamed"),
        ("po\x00.edi", "po_.edi"),
        ("..%2f..%2fpo.edi", "%2f..%2fpo.edi"),
        (".hidden", "hidden"),
        (b"caf\xc3\xa9.edi", "café.edi"),
        ("x" * 300, "x" * 200),
    ],
)
def test_display_names(given: str | bytes | None, shown: str) -> None:
    assert display_name(given) == shown


@pytest.mark.parametrize(
    ("name", "plain"),
    [("po.edi", True), ("..", False), (".", False), ("a/b", False), ("a\\b", False), ("", False)],
)
def test_single_component(name: str, plain: bool) -> None:
    assert single_component(name) is plain


def test_exported_names_exist() -> None:
    assert all(hasattr(base, name) for name in base.__all__)
    assert all(hasattr(registry, name) for name in registry.__all__)
