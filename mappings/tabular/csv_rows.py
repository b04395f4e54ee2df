"""CSV rows: the stdlib `csv` reader over decoded lines, the header row checked against the mapping.

`csv` handles the real dialect problems (quoted delimiters, doubled quotes, line breaks inside quoted
values) and runs in C; it reads any iterator of lines, so it is fed one decoded line at a time and the
physical line each row starts on stays known. `strict=True` turns sloppy quoting into a reported
problem instead of a silently merged value.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from gateway.core.errors import Issue, ParseError
from mappings.tabular.decode import PhysicalLine
from mappings.tabular.model import CsvLayout, Location, TabularMapping
from mappings.tabular.rows import Row, row_problem

_PLAIN_CSV_ERRORS = {
    "unexpected end of data": "a quoted value that starts in this row is never closed",
    "expected after": 'text follows a closing quote (a quote inside a quoted value is written twice: "")',
    "field larger than field limit": "a value is longer than the CSV reader allows (an unclosed quote?)",
}


class _Feed:
    """The lines the csv reader pulls, remembering the last line number and decoding problems."""

    def __init__(self, lines: Iterator[PhysicalLine]) -> None:
        self.lines = lines
        self.number = 0
        self.problems: list[tuple[int, str]] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.number = line.number
        if line.problem:
            self.problems.append((line.number, line.problem))
        return line.text

    def take_problems(self) -> list[tuple[int, str]]:
        taken, self.problems = self.problems, []
        return taken


class CsvRows:
    def __init__(self, mapping: TabularMapping) -> None:
        assert isinstance(mapping.layout, CsvLayout)
        self.layout: CsvLayout = mapping.layout
        self.names = _named_columns(mapping)
        self.header: list[str] | None = None
        self.index: dict[str, int] = {}

    @property
    def saw_header(self) -> bool:
        return self.header is not None

    def rows(self, lines: Iterator[PhysicalLine]) -> Iterator[Row]:
        layout = self.layout
        feed = _Feed(lines)
        for _ in range(layout.skip_rows):
            if next(feed, None) is None:
                return
        feed.take_problems()  # skipped lines may be in any encoding
        reader = csv.reader(
            feed,
            delimiter=layout.delimiter,
            quotechar=layout.quote_char or None,
            quoting=csv.QUOTE_MINIMAL if layout.quote_char else csv.QUOTE_NONE,
            strict=True,
        )
        while True:
            start = feed.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Row(start, [], problems=[_syntax(start, str(error))])
                feed.take_problems()
                continue
            decoding = feed.take_problems()
            if not any(cell.strip() for cell in cells):
                continue
            if layout.header and self.header is None:
                self._read_header(cells, start, decoding)
                continue
            record = self._record_type(cells)
            segment = record or "row"
            problems = [
                row_problem(number, segment, "TABULAR_ENCODING", f"row {number}: {text}")
                for number, text in decoding
            ]
            if self._repeats_header(cells):
                if layout.repeated_header == "skip":
                    continue
                message = f'row {start} repeats the header row (repeated_header = "error")'
                problems.append(row_problem(start, segment, "TABULAR_REPEATED_HEADER", message))
                cells = []  # not data: only its problem counts
            yield Row(start, cells, record, problems)

    def _repeats_header(self, cells: list[str]) -> bool:
        header = self.header
        return (
            header is not None
            and len(cells) == len(header)
            and cells[0].strip() == header[0]
            and [c.strip() for c in cells] == header
        )

    def _record_type(self, cells: list[str]) -> str | None:
        location = self.layout.record_type
        if location is None:
            return None
        return (self._cell(cells, location) or "").strip()

    def _read_header(self, cells: list[str], line: int, decoding: list[tuple[int, str]]) -> None:
        if decoding:
            number, text = decoding[0]
            raise ParseError(
                f"header row {number}: {text}", code="TABULAR_ENCODING", segment="header", position=number
            )
        self.header = [cell.strip() for cell in cells]
        for number, name in enumerate(self.header):
            self.index.setdefault(name, number)
        missing = [name for name in self.names if name not in self.index]
        if missing:
            listed = ", ".join(f'"{name}"' for name in missing)
            raise ParseError(
                f"the header row (line {line}) lacks column(s) {listed}; {_found(self.header, self.layout)}",
                code="TABULAR_HEADER",
                segment="header",
                position=line,
                element=missing[0],
            )
        twice = [name for name in self.names if self.header.count(name) > 1]
        if twice:
            raise ParseError(
                f'the header row (line {line}) has column "{twice[0]}" more than once: the mapping cannot '
                "tell which one it means; use its column number instead",
                code="TABULAR_HEADER",
                segment="header",
                position=line,
                element=twice[0],
            )

    def _cell(self, cells: list[str], location: Location) -> str | None:
        column = location.column
        index = self.index[column] if isinstance(column, str) else (column or 1) - 1
        return cells[index] if index < len(cells) else None

    def cell(self, row: Row, location: Location) -> str | None:
        """A row shorter than the header row is broken (an unquoted line break splits one); without
        a header nothing says how wide a row is, and records often omit trailing empty columns."""
        column = location.column
        index = self.index[column] if isinstance(column, str) else (column or 1) - 1
        if index < len(row.cells):
            return row.cells[index]
        return None if self.header is not None else ""

    def element(self, location: Location, name: str | None) -> str:
        return str(location.column)

    def where(self, row: Row, location: Location, name: str | None) -> str:
        column = location.column
        shown = f'"{column}"' if isinstance(column, str) else str(column)
        return f"row {row.line}, column {shown}"


def _found(header: list[str], layout: CsvLayout) -> str:
    """What the header has instead, with the likeliest cause when it is one single column."""
    if len(header) == 1:
        others = [d for d in ",;\t|" if d != layout.delimiter and d in header[0]]
        if others:
            return (
                f'it is one single column: the file seems delimited by "{others[0]}" '
                f'but the mapping says delimiter = "{layout.delimiter}"'
            )
    shown = ", ".join(f'"{name}"' for name in header[:30]) + (" …" if len(header) > 30 else "")
    return f"it has {shown}: is this the partner's file, and are the mapping's names exact?"


def _syntax(line: int, error: str) -> Issue:
    plain = next((text for key, text in _PLAIN_CSV_ERRORS.items() if key in error), f"CSV syntax: {error}")
    return row_problem(line, "row", "TABULAR_CSV_SYNTAX", f"row {line}: {plain}")


def _named_columns(mapping: TabularMapping) -> list[str]:
    """Header names the mapping refers to, in the order it names them."""
    locations: list[Location | None] = [*mapping.fields, mapping.layout.record_type]
    counts = getattr(mapping.grouping, "counts", None)
    if counts is not None:
        locations += [counts.orders, counts.lines, counts.records]
    names: list[str] = []
    for location in locations:
        if location is not None and isinstance(location.column, str) and location.column not in names:
            names.append(location.column)
    return names


__all__ = ["CsvRows"]
