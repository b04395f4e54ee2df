"""Cell text → typed value: numbers as partners write them, dates by their patterns.

Each parser raises `ValueProblem` with the value quoted and what was expected; the caller knows the
row and column and turns it into an Issue. Numbers are strict on purpose: with "." declared as the
thousands separator, "12.5" is refused rather than read as 125.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

_DIGITS = re.compile(r"[0-9]+", re.ASCII).fullmatch
_HUMAN_DIRECTIVES = {
    "%d": "DD",
    "%m": "MM",
    "%Y": "YYYY",
    "%y": "YY",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
    "%b": "Mon",
    "%B": "Month",
    "%j": "DDD",
}


class ValueProblem(ValueError):
    """A cell that cannot be read as the field's kind; the message quotes the value."""


def parse_decimal(text: str, *, decimal: str = ".", thousands: str = "", implied: int = 0) -> Decimal:
    """A number with the partner's separators; `implied` decimals for fixed-width "000012550" → 125.50.

    A minus may lead or trail ("12-", as SAP writes it); a plus may lead."""
    body, negative = text, False
    if body.endswith("-"):
        body, negative = body[:-1], True
    elif body[:1] in ("-", "+"):
        body, negative = body[1:], body[0] == "-"
    whole, point, fraction = body.partition(decimal)
    if thousands and thousands in whole:
        groups = whole.split(thousands)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise ValueProblem(f'"{text}" is not a number: "{thousands}" must group three digits')
        whole = "".join(groups)
    if not (_DIGITS(whole) or (whole == "" and point)) or (point and not _DIGITS(fraction)):
        expected = f" (digits, {implied} implied decimals)" if implied else _separators(decimal, thousands)
        raise ValueProblem(f'"{text}" is not a number{expected}')
    if point and implied:
        raise ValueProblem(
            f'"{text}" has a decimal separator, but the field declares {implied} implied decimals'
        )
    value = Decimal(f"{'-' if negative else ''}{whole or '0'}{'.' + fraction if point else ''}")
    return value.scaleb(-implied) if implied else value


def _separators(decimal: str, thousands: str) -> str:
    parts = [f'decimal separator "{decimal}"']
    if thousands:
        parts.append(f'thousands separator "{thousands}"')
    return f" ({', '.join(parts)})"


def parse_date(text: str, patterns: Sequence[str]) -> date:
    """The first pattern that reads the whole value wins."""
    for pattern in patterns:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    expected = " or ".join(human_pattern(p) for p in patterns)
    raise ValueProblem(f'"{text}" is not a date (expected {expected})')


def human_pattern(pattern: str) -> str:
    """`%d.%m.%Y` → `DD.MM.YYYY`: what a partner's spec prints, not what strftime wants."""
    for directive, shown in _HUMAN_DIRECTIVES.items():
        pattern = pattern.replace(directive, shown)
    return pattern


def check_date_pattern(pattern: str) -> None:
    """`ValueError` unless a date written with the pattern reads back (catches "%Q" and patterns
    without a day, month or year)."""
    sample = datetime(2024, 11, 28, 13, 45, 30)
    try:
        back = datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError as error:
        raise ValueError(f'date pattern "{pattern}" is not a strftime pattern: {error}') from None
    if back.date() != sample.date():
        raise ValueError(f'date pattern "{pattern}" does not give a whole date (day, month and year)')


def parse_count(text: str) -> int | None:
    """A trailer count: digits only (leading zeros and blanks allowed)."""
    value = text.strip()
    return int(value) if _DIGITS(value) and len(value) <= 18 else None


__all__ = [
    "ValueProblem",
    "check_date_pattern",
    "human_pattern",
    "parse_count",
    "parse_date",
    "parse_decimal",
]
