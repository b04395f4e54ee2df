"""Where a value goes in the order being assembled: one small setter per target, made once.

Orders are assembled as plain dicts and validated once by pydantic (its fast path); a setter knows
whether its target is a nested field, a list (street lines, notes), a party identifier with its
scheme, a reference with its qualifier, or an item number that is also listed under its scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mappings.tabular.targets import ITEM_SCHEMES, REFERENCE_PREFIX, Target

Setter = Callable[[dict[str, Any], object], None]
LINE_PREFIX = "lines."


def setter(target: Target, scheme: str | None) -> Setter:
    path = target.path
    if path.startswith(REFERENCE_PREFIX):
        qualifier = path.removeprefix(REFERENCE_PREFIX)

        def reference(into: dict[str, Any], value: object) -> None:
            into["references"].append({"qualifier": qualifier, "value": value})

        return reference
    if target.is_identifier:
        role, identifier_scheme = path.removesuffix(".id"), scheme or "PARTNER"

        def identifier(into: dict[str, Any], value: object) -> None:
            party = into.setdefault(role, {})
            party.setdefault("identifiers", []).append({"scheme": identifier_scheme, "value": value})

        return identifier
    *parents, leaf = path.removeprefix(LINE_PREFIX).split(".")
    item_scheme = ITEM_SCHEMES.get(path)
    repeatable = target.repeatable

    def put(into: dict[str, Any], value: object) -> None:
        if item_scheme is not None:
            into["item_identifiers"].append({"scheme": item_scheme, "value": value})
        for part in parents:
            into = into.setdefault(part, {})
        if repeatable:
            into.setdefault(leaf, []).append(value)
        else:
            into[leaf] = value

    return put


__all__ = ["LINE_PREFIX", "Setter", "setter"]
