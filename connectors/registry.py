"""Which transports exist. Built-in connectors are listed once here; plugins register a `ConnectorSpec`
through the `ordergate.connectors` entry-point group. Adding a transport is one module (or package)
exposing `SPEC` and one line here or in the plugin's pyproject, never a chain of ifs."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from connectors.base import ChannelContext, Connector, ConnectorSettings, ConnectorSpec, SecretSource
from gateway.core.errors import ConfigError

BUILTIN_CONNECTORS = (
    "connectors.folder:SPEC",
    "connectors.sftp:SPEC",
    "connectors.email:SPEC",
    "connectors.webhooks.shopify:SPEC",
    "connectors.webhooks.woocommerce:SPEC",
    "connectors.marketplaces.shopify_rest:SPEC",
    "connectors.marketplaces.woocommerce_rest:SPEC",
    "connectors.marketplaces.amazon_spapi:SPEC",
    "connectors.as2:SPEC",
)
ENTRY_POINT_GROUP = "ordergate.connectors"


def _load(target: str) -> ConnectorSpec:
    module_name, _, attribute = target.partition(":")
    spec = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(spec, ConnectorSpec):
        raise TypeError(f"{target} is not a ConnectorSpec")
    return spec


@cache
def specs() -> Mapping[str, ConnectorSpec]:
    found = [_load(target) for target in BUILTIN_CONNECTORS]
    found.extend(ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP))
    return {spec.kind: spec for spec in found}


def kinds() -> tuple[str, ...]:
    return tuple(sorted(specs()))


def get(kind: str) -> ConnectorSpec:
    spec = specs().get(kind)
    if spec is None:
        close = difflib.get_close_matches(kind, kinds(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known kinds: {', '.join(kinds())}"
        raise ConfigError(f"unknown connector kind {kind!r}{hint}", code="UNKNOWN_CONNECTOR")
    return spec


def parse_settings(kind: str, settings: Mapping[str, Any] | ConnectorSettings) -> ConnectorSettings:
    """Validate raw settings against the kind's model. The error names each bad field and what is
    wrong, never the value given (it could be a secret pasted in the wrong place)."""
    model = get(kind).settings
    if isinstance(settings, model):
        return settings
    try:
        return model.model_validate(dict(settings))
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in detail["loc"]) or "settings"
            message = detail["msg"]
            if detail["type"] == "extra_forbidden":
                message = "unknown setting" + (
                    f" (secrets are referenced by name: {where}_secret=NAME)"
                    if f"{where}_secret" in model.model_fields
                    else ""
                )
            problems.append(f"{where}: {message}")
        raise ConfigError(f"{kind} settings: " + "; ".join(problems), code="BAD_CHANNEL_SETTINGS") from None


def build(
    kind: str,
    settings: Mapping[str, Any] | ConnectorSettings,
    secrets: SecretSource,
    *,
    context: ChannelContext,
) -> Connector:
    """A ready connector for one channel. Secrets are looked up through `secrets` only when used."""
    spec = get(kind)
    return spec.factory(parse_settings(kind, settings), secrets, context)


__all__ = ["BUILTIN_CONNECTORS", "ENTRY_POINT_GROUP", "build", "get", "kinds", "parse_settings", "specs"]
