"""One field's cell text → its canonical value: trim, empty values, default, value map, then the kind.

Built once per field when a format is made from a mapping, so reading a row only calls small closures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, get_args

from gateway.core.canonical import OrderPurpose
from mappings.tabular.targets import Target, resolve
from mappings.tabular.values import ValueProblem, parse_date, parse_decimal

if TYPE_CHECKING:
    from mappings.tabular.model import FieldSpec, ValueDefaults

PURPOSES = get_args(OrderPurpose)

Parser = Callable[[str], object]
CACHE_SIZE = 1024


def _text(text: str) -> object:
    return text


def _purpose(text: str) -> object:
    if text not in PURPOSES:
        allowed = ", ".join(PURPOSES)
        raise ValueProblem(f'"{text}" is not an order purpose ({allowed}); map the partner\'s codes with map')
    return text


def separators(spec: FieldSpec, defaults: ValueDefaults) -> tuple[str, str]:
    """The decimal and thousands separators that apply to a field."""
    return spec.decimal or defaults.decimal, defaults.thousands if spec.thousands is None else spec.thousands


def parser(spec: FieldSpec, defaults: ValueDefaults) -> Parser:
    """The kind's parser; numbers and dates are cached, since order dates, prices and units repeat
    on row after row (the values are immutable, a refused value is not cached)."""
    target = resolve(spec.target)
    if target.kind == "decimal":
        decimal, thousands = separators(spec, defaults)
        implied = spec.implied_decimals
        return lru_cache(maxsize=CACHE_SIZE)(
            lambda text: parse_decimal(text, decimal=decimal, thousands=thousands, implied=implied)
        )
    if target.kind == "date":
        patterns = tuple(spec.dates or defaults.dates)
        return lru_cache(maxsize=CACHE_SIZE)(lambda text: parse_date(text, patterns))
    if target.kind == "purpose":
        return _purpose
    return _text


@dataclass(frozen=True, slots=True)
class Converter:
    """Reads one field's cells. `convert` returns None for an empty cell; the caller decides whether
    the field was required."""

    target: Target
    trim: bool
    nulls: frozenset[str]
    default: str | None
    mapping: dict[str, str]
    strict_map: bool
    parse: Parser

    @classmethod
    def build(cls, spec: FieldSpec, defaults: ValueDefaults) -> Converter:
        return cls(
            target=resolve(spec.target),
            trim=defaults.trim if spec.trim is None else spec.trim,
            nulls=frozenset(defaults.null_values),
            default=spec.default,
            mapping=dict(spec.map),
            strict_map=spec.unmapped == "error",
            parse=parser(spec, defaults),
        )

    def convert(self, raw: str) -> object | None:
        text = raw.strip() if self.trim else raw
        if not text.strip() or text in self.nulls:
            if self.default is None:
                return None
            text = self.default
        if self.mapping:
            if text in self.mapping:
                text = self.mapping[text]
            elif self.strict_map:
                known = ", ".join(f'"{key}"' for key in self.mapping)
                raise ValueProblem(f'"{text}" is not one of the mapped values ({known})')
        return self.parse(text)


__all__ = ["PURPOSES", "Converter", "Parser", "parser", "separators"]
