"""Fixed-width records: one line each, values cut at the 1-based positions the partner's spec prints.

Positions count characters of the decoded line, which are bytes for the single-byte encodings such
files use (cp1252, latin-1). A line shorter than a field (editors and mail gateways strip trailing
blanks) reads as blanks there: a required field still reports it missing.
"""

from __future__ import annotations

from collections.abc import Iterator

from mappings.tabular.decode import PhysicalLine
from mappings.tabular.model import FixedLayout, Location, TabularMapping
from mappings.tabular.rows import Row, row_problem


def _positions(location: Location) -> tuple[int, int]:
    span = location.span
    assert span is not None, "a fixed-width mapping places every value by start (checked on load)"
    return span


class FixedRows:
    def __init__(self, mapping: TabularMapping) -> None:
        assert isinstance(mapping.layout, FixedLayout)
        self.layout: FixedLayout = mapping.layout

    @property
    def saw_header(self) -> bool:
        return False

    def rows(self, lines: Iterator[PhysicalLine]) -> Iterator[Row]:
        skip, record_type = self.layout.skip_rows, self.layout.record_type
        for line in lines:
            if line.number <= skip:
                continue
            text = line.text.rstrip("\r\n")
            if not text.strip():
                continue
            record = None
            if record_type is not None:
                first, last = _positions(record_type)
                record = text[first - 1 : last].strip()
            problems = []
            if line.problem:
                message = f"line {line.number}: {line.problem}"
                problems.append(row_problem(line.number, record or "row", "TABULAR_ENCODING", message))
            yield Row(line.number, [text], record, problems)

    def cell(self, row: Row, location: Location) -> str | None:
        first, last = _positions(location)
        return row.cells[0][first - 1 : last]

    def element(self, location: Location, name: str | None) -> str:
        first, last = _positions(location)
        return name or f"{first}-{last}"

    def where(self, row: Row, location: Location, name: str | None) -> str:
        first, last = _positions(location)
        record = f" ({row.record} record)" if row.record else ""
        label = f' "{name}"' if name else ""
        return f"line {row.line}{record}, positions {first}-{last}{label}"


__all__ = ["FixedRows"]
