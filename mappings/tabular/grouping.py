"""Rows → order groups, streaming: by a repeated order number, or by header/line/trailer records.

Grouping by key holds one order's rows at a time, so it needs the rows of one order to be consecutive
(every export sorted or written order by order is). An order number that comes back after another
order is reported, not merged: merging would mean holding the whole file, and a file written that
way is more often two exports pasted together than one order. Only the order numbers seen are kept.

Grouping by records checks the structure as it goes (a line record before any header, an unknown
record type, records after the trailer) and, at the end, the trailer's counts against what was read:
a count that does not match, or a missing trailer, rejects the whole file (a truncated transfer).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gateway.core.errors import Issue, ParseError
from mappings.tabular.model import Location, RecordGrouping
from mappings.tabular.plan import Plan
from mappings.tabular.rows import LayoutReader, Row, row_problem
from mappings.tabular.values import parse_count


@dataclass(slots=True)
class Group:
    """The rows of one order (or of no order, when they could not be placed)."""

    first_line: int
    segment: str
    key: str | None = None
    header: Row | None = None  # the header record, when grouping by records
    rows: list[Row] = field(default_factory=list)  # line rows (grouping by key: every row)
    problems: list[Issue] = field(default_factory=list)

    @property
    def orphan(self) -> bool:
        """Rows that belong to no order: line records before any header, records after the trailer."""
        return self.key is None and self.header is None


def groups(rows: Iterator[Row], plan: Plan, reader: LayoutReader) -> Iterator[Group]:
    records = plan.records
    if records is None:
        return _by_key(rows, plan, reader)
    return _by_records(rows, records, reader)


def _key(row: Row, plan: Plan, reader: LayoutReader) -> str:
    if plan.key.spec.constant is not None:
        return plan.key.spec.constant
    return (reader.cell(row, plan.key.spec) or "").strip()


def _by_key(rows: Iterator[Row], plan: Plan, reader: LayoutReader) -> Iterator[Group]:
    current: Group | None = None
    seen: dict[str, int] = {}  # order number → the line its rows started on
    for row in rows:
        if not row.cells:  # unreadable (CSV syntax): its problems go with the order around it
            current = current or Group(row.line, row.segment)
            current.problems.extend(row.problems)
            continue
        key = _key(row, plan, reader)
        if current is None or key != current.key:
            if current is not None:
                yield current
            current = Group(row.line, "row", key=key)
            if key and key in seen:
                current.problems.append(
                    row_problem(
                        row.line,
                        "row",
                        "TABULAR_NOT_CONSECUTIVE",
                        f'row {row.line}: order "{key}" started on row {seen[key]} and other orders came '
                        "between: the rows of one order must be consecutive",
                        reader.element(plan.key.spec, plan.key.spec.name),
                    )
                )
            seen.setdefault(key, row.line)
        current.problems.extend(row.problems)
        current.rows.append(row)
    if current is not None:
        yield current


class _Tally:
    def __init__(self) -> None:
        self.orders = 0
        self.lines = 0
        self.records = 0


def _by_records(rows: Iterator[Row], grouping: RecordGrouping, reader: LayoutReader) -> Iterator[Group]:
    current: Group | None = None
    trailer: Row | None = None
    tally = _Tally()
    for row in rows:
        tally.records += 1
        kind = row.record
        misplaced = None
        if trailer is not None:
            misplaced = f"line {row.line}: a record after the trailer"
        elif row.cells and kind not in _known(grouping):
            misplaced = f'line {row.line}: a record of unknown type "{kind}"'
        elif kind == grouping.header and row.cells:
            tally.orders += 1
            if current is not None:
                yield current
            current = Group(row.line, row.segment, header=row)
        elif kind == grouping.line and row.cells:
            tally.lines += 1
            if current is None or current.header is None:
                misplaced = f'line {row.line}: line record "{kind}" comes before any header record "{grouping.header}"'
            else:
                current.rows.append(row)
        elif kind == grouping.trailer and row.cells:
            if current is not None:
                yield current
            current, trailer = None, row
        if (misplaced or row.problems) and current is None:
            current = Group(row.line, row.segment)
        if current is not None:
            if misplaced:
                current.problems.append(row_problem(row.line, row.segment, "TABULAR_RECORD", misplaced))
            current.problems.extend(row.problems)
    if current is not None:
        yield current
    if grouping.trailer is not None:
        _check_trailer(trailer, grouping, reader, tally)


def _known(grouping: RecordGrouping) -> set[str | None]:
    return {grouping.header, grouping.line, grouping.trailer, *grouping.ignore} - {None}


def _check_trailer(
    trailer: Row | None, grouping: RecordGrouping, reader: LayoutReader, tally: _Tally
) -> None:
    if trailer is None:
        raise ParseError(
            f'the file ends without its "{grouping.trailer}" trailer record: was it cut off in transfer?',
            code="TABULAR_TRAILER_MISSING",
            segment=grouping.trailer,
        )
    counts = grouping.counts
    if counts is None:
        return
    records = tally.records if counts.records_include_trailer else tally.records - 1
    for name, location, actual, what in (
        ("orders", counts.orders, tally.orders, f'"{grouping.header}" header records'),
        ("lines", counts.lines, tally.lines, f'"{grouping.line}" line records'),
        ("records", counts.records, records, "records"),
    ):
        if location is not None:
            _check_count(trailer, reader, location, name, actual, what)


def _check_count(
    trailer: Row, reader: LayoutReader, location: Location, name: str, actual: int, what: str
) -> None:
    raw = reader.cell(trailer, location) or ""
    sent = parse_count(raw)
    where = reader.where(trailer, location, name)
    if sent is None:
        message = f'{where}: the {name} count "{raw.strip()}" is not a number'
    elif sent != actual:
        message = f"{where}: the trailer counts {sent} {what}, the file has {actual}"
    else:
        return
    raise ParseError(
        message,
        code="TABULAR_TRAILER_COUNT",
        segment=trailer.segment,
        position=trailer.line,
        element=reader.element(location, name),
    )


__all__ = ["Group", "groups"]
