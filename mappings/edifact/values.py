"""Reading element values: components, numbers with either decimal mark, and DTM dates.

ISO 9735 lets a receiver accept a decimal comma whatever UNA says, so both marks are read everywhere;
the UNA decimal mark only matters when writing. Values are checked with a strict pattern before
`Decimal` sees them, because `Decimal` would also take "NaN", "1e5" or " 7 ".
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from mappings.edifact.tokenizer import Element, Repeated

_NUMBER = re.compile(r"-?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")


def repetitions(element: Element) -> list[list[str]]:
    """Every repetition of an element (syntax 4), each as its list of components."""
    return element.repetitions() if isinstance(element, Repeated) else [element]


def comp(elements: list[Element], index: int, component: int = 0) -> str:
    """Component `component` of element `index` (0 = first element after the tag); "" when absent."""
    if index < len(elements):
        element = elements[index]
        if component < len(element):
            return element[component]
    return ""


def text_of(
    elements: list[Element], index: int, start: int = 0, stop: int | None = None, sep: str = " "
) -> str:
    """The non-empty components `start:stop` of an element joined (names, free text lines)."""
    if index >= len(elements):
        return ""
    return sep.join(t for t in elements[index][start:stop] if t)


# Quantities, prices and dates repeat a lot within an interchange (every line delivered the same day);
# remembering the last few thousand parsed values halves the cost of reading them. Bounded, so memory
# stays flat however large the interchange; Decimal and date are immutable, so sharing them is safe.
_CACHE_LIMIT = 4096
_numbers: dict[str, Decimal] = {}
_dates: dict[tuple[str, str], date] = {}


def parse_number(text: str) -> Decimal | None:
    """A numeric data element as Decimal; None when it is not an EDIFACT number."""
    number = _numbers.get(text)
    if number is not None:
        return number
    if text.isdigit() and text.isascii():
        number = Decimal(text)
    elif _NUMBER.fullmatch(text):
        number = Decimal(text.replace(",", "."))
    else:
        return None
    if len(_numbers) >= _CACHE_LIMIT:
        _numbers.clear()
    _numbers[text] = number
    return number


def format_number(value: Decimal, decimal_mark: str = ".") -> str:
    """Fixed-point text (no exponent), with the interchange's decimal mark."""
    text = format(value, "f")
    return text.replace(".", decimal_mark) if decimal_mark != "." else text


# Date/time format qualifiers (2379) → (layout of the leading date part, exact total length or 0).
_DATE_FORMATS: dict[str, tuple[str, int]] = {
    "102": ("CCYYMMDD", 8),
    "203": ("CCYYMMDD", 12),
    "204": ("CCYYMMDD", 14),
    "205": ("CCYYMMDD", 0),
    "303": ("CCYYMMDD", 0),
    "304": ("CCYYMMDD", 0),
    "718": ("CCYYMMDD", 17),
    "719": ("CCYYMMDD", 25),
    "101": ("YYMMDD", 6),
    "201": ("YYMMDD", 10),
    "202": ("YYMMDD", 12),
    "301": ("YYMMDD", 0),
    "302": ("YYMMDD", 0),
    "4": ("DDMMCCYY", 8),
    "2": ("DDMMYY", 6),
    "3": ("MMDDYY", 6),
}
_BY_LENGTH = {8: "102", 12: "203", 14: "204", 6: "101", 10: "201"}


class DateProblem(Exception):
    """A DTM value that cannot be read; `unsupported` when only its format qualifier is unknown."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def parse_date(value: str, qualifier: str) -> date:
    """The calendar date of a DTM C507 value in format `qualifier` (guessed from the length when empty)."""
    key = (value, qualifier)
    found = _dates.get(key)
    if found is None:
        found = _parse_date(value, qualifier)
        if len(_dates) >= _CACHE_LIMIT:
            _dates.clear()
        _dates[key] = found
    return found


def _parse_date(value: str, qualifier: str) -> date:
    if qualifier == "102" and len(value) == 8 and value.isdigit() and value.isascii():  # the usual case
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise DateProblem(f"{value!r} is not a calendar date") from None
    if not qualifier:
        qualifier = _BY_LENGTH.get(len(value), "")
        if not qualifier or not value.isdigit():
            raise DateProblem(f"{value!r} has no format qualifier and is no date layout ordergate knows")
    spec = _DATE_FORMATS.get(qualifier)
    if spec is None:
        raise DateProblem(f"date format {qualifier} is not one ordergate reads", unsupported=True)
    layout, length = spec
    head = value[: len(layout)]
    if (
        (length and len(value) != length)
        or len(head) != len(layout)
        or not (head.isdigit() and head.isascii())
    ):
        raise DateProblem(f"{value!r} does not match date format {qualifier} ({layout}…)")
    if length and qualifier not in ("718", "719") and not value.isdigit():
        raise DateProblem(f"{value!r} does not match date format {qualifier} ({layout}…)")
    if layout == "CCYYMMDD":
        year, month, day = int(head[:4]), int(head[4:6]), int(head[6:8])
    elif layout == "YYMMDD":
        year, month, day = _century(int(head[:2])), int(head[2:4]), int(head[4:6])
    elif layout == "DDMMCCYY":
        year, month, day = int(head[4:8]), int(head[2:4]), int(head[:2])
    elif layout == "DDMMYY":
        year, month, day = _century(int(head[4:6])), int(head[2:4]), int(head[:2])
    else:  # MMDDYY
        year, month, day = _century(int(head[4:6])), int(head[:2]), int(head[2:4])
    try:
        return date(year, month, day)
    except ValueError:
        raise DateProblem(f"{value!r} is not a calendar date") from None


def _century(year: int) -> int:
    """Two-digit years: 00-49 are 20xx, 50-99 are 19xx (the usual EDI pivot)."""
    return 2000 + year if year < 50 else 1900 + year
