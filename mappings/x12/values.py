"""X12 element values: numbers (type R/N) and dates (CCYYMMDD, or YYMMDD before version 004010).

Parsers return None for a value they cannot read instead of raising: the caller knows the segment,
position and element, and turns that into an Issue for the transaction set, not an exception.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

_REAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:E-?\d{1,3})?", re.ASCII).fullmatch
"""X12 decimal number: optional minus, optional decimal point, (5010) optional exponent; no plus, no NaN."""

LONG_DATES_FROM = 4010
"""Dates have 8 digits (CCYYMMDD) from version 004010 on; 6 digits (YYMMDD) before."""
CENTURY_PIVOT = 50
"""YYMMDD years below this are 20YY, others 19YY (X12 itself does not say)."""


def integer(text: str) -> int | None:
    """A count or control number; None unless plain ASCII digits (and short enough for `int` to accept)."""
    value = text.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def decimal(text: str) -> Decimal | None:
    value = text.strip()
    if value.isascii() and value.isdigit():
        return Decimal(value)
    return Decimal(value) if _REAL(value) else None


def format_decimal(value: Decimal) -> str:
    """A decimal as X12 writes it: plain notation, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def long_dates(version: str | None) -> bool | None:
    """Whether GS08 implies CCYYMMDD dates; None when the version says nothing readable."""
    if not version or len(version) < 6 or not (version[:6].isascii() and version[:6].isdigit()):
        return None
    return int(version[:6]) >= LONG_DATES_FROM


def parse_date(text: str) -> date | None:
    """A CCYYMMDD or YYMMDD date (by its length), or None when it is not a real date."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) not in (6, 8):
        return None
    if len(value) == 6:
        short = int(value[:2])
        value = f"{20 if short < CENTURY_PIVOT else 19}{value}"
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def format_date(value: date, *, long: bool = True) -> str:
    text = f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return text if long else text[2:]
