"""Rows: what a layout makes of the lines of a file, and the contract each layout implements.

A layout (CSV, fixed-width) turns decoded lines into `Row`s and reads a value at a `Location` of a row;
everything after that (grouping into orders, converting values) is shared. Layouts are listed in
`layouts.LAYOUTS` by the mapping's `layout.kind`, so another one (say, a spreadsheet) is one module more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from gateway.core.errors import Issue

if TYPE_CHECKING:
    from mappings.tabular.decode import PhysicalLine
    from mappings.tabular.model import Location


@dataclass(slots=True)
class Row:
    """One record of the file: a CSV row (possibly spanning lines) or one fixed-width line."""

    line: int  # physical line it starts on, 1-based
    cells: list[str]  # CSV cells; for fixed-width, the whole line
    record: str | None = None  # record type, when the mapping groups by record types
    problems: list[Issue] = field(default_factory=list)  # the row could not be read (bytes, quoting)

    @property
    def segment(self) -> str:
        """`Issue.segment` for problems in this row: its record type, or "row"."""
        return self.record or "row"


class LayoutReader(Protocol):
    """Reads one file of one layout. A new instance per file: a CSV reader learns the header row."""

    def rows(self, lines: Iterator[PhysicalLine]) -> Iterator[Row]:
        """Data rows, blank ones skipped. Raises `ParseError` for a header that does not fit."""
        ...

    @property
    def saw_header(self) -> bool:
        """Whether a header row was read (an "empty" file may still have one)."""
        ...

    def cell(self, row: Row, location: Location) -> str | None:
        """The raw text at a location, None when the row is too short to have it."""
        ...

    def element(self, location: Location, name: str | None) -> str:
        """`Issue.element`: the column's name or number, or the fixed-width field's name."""
        ...

    def where(self, row: Row, location: Location, name: str | None) -> str:
        """The opening of a message: 'row 7, column "qty"' or 'line 7 (L record), positions 20-28 "QTY"'."""
        ...


def row_problem(row_line: int, segment: str, code: str, message: str, element: str | None = None) -> Issue:
    return Issue(code=code, message=message, segment=segment, position=row_line, element=element)


__all__ = ["LayoutReader", "Row", "row_problem"]
