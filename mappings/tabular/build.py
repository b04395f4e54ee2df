"""One group of rows → one canonical `Order` (or the issues that explain why there is none).

Every cell is read and every problem kept, so one run lists all the bad rows of an order. With grouping
by key the order-level columns repeat on each row: the first non-empty value counts, and a later row
that says something else is an error (two orders under one number, or a broken export), never a
silent choice. The order is assembled as plain dicts, validated once, then judged by `check_order`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway.core.canonical import Order
from gateway.core.checks import check_order
from gateway.core.errors import Issue
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.tabular.grouping import Group
from mappings.tabular.plan import Plan, PlannedField
from mappings.tabular.rows import LayoutReader, Row, row_problem
from mappings.tabular.values import ValueProblem


class RowValues:
    """Reads planned fields from rows, collecting an Issue for each cell that cannot be read."""

    def __init__(self, reader: LayoutReader) -> None:
        self.reader = reader
        self.issues: list[Issue] = []

    def read(
        self, row: Row, fields: tuple[PlannedField, ...], known: dict[int, str] | None = None
    ) -> list[tuple[PlannedField, object, str]]:
        """The non-empty values of a row with their cell text, in mapping order. Required line values
        that are empty are reported here; required order values are judged over the whole group by
        the caller. A field whose cell text is the one in `known` (by `id`) was read already: skipped."""
        found: list[tuple[PlannedField, object, str]] = []
        for field in fields:
            if field.constant is not None:
                if known is None or id(field) not in known:
                    found.append((field, field.constant, field.spec.constant or ""))
                continue
            raw = self.reader.cell(row, field.spec)
            if raw is None:
                self.issue(row, field, "TABULAR_COLUMN_MISSING", f"the row has only {len(row.cells)} columns")
                break  # the row is cut short; the next columns are missing as well
            if known is not None and known.get(id(field)) == raw:
                continue
            try:
                value = field.converter.convert(raw)
            except ValueProblem as problem:
                self.issue(row, field, "TABULAR_VALUE", str(problem))
                continue
            if value is not None:
                found.append((field, value, raw))
            elif field.required and field.target.level == "line":
                self.issue(row, field, "TABULAR_REQUIRED", "a value is required")
        return found

    def issue(self, row: Row, field: PlannedField, code: str, message: str) -> None:
        where = self.reader.where(row, field.spec, field.spec.name)
        element = self.reader.element(field.spec, field.spec.name)
        self.issues.append(row_problem(row.line, row.segment, code, f"{where}: {message}", element))


def build(
    group: Group, plan: Plan, reader: LayoutReader, header: InterchangeHeader, ordinal: int
) -> MessageOutcome:
    values = RowValues(reader)
    errors: list[Issue] = list(group.problems)
    warnings: list[Issue] = []
    order: Order | None = None
    if not group.orphan:
        assembled = _assemble(group, plan, values)
        errors.extend(values.issues)
        if not errors:
            order = _validated(assembled, group, plan, header, ordinal, errors)
        if order is not None:
            for found in check_order(order):
                located = found.model_copy(update={"segment": group.segment, "position": group.first_line})
                (errors if found.severity == "error" else warnings).append(located)
    return MessageOutcome(
        message_type=plan.message_type,
        message_ref=str(ordinal),
        version=None,
        position=group.first_line,
        order=order if not errors else None,
        errors=errors,
        warnings=warnings,
    )


def _assemble(group: Group, plan: Plan, values: RowValues) -> dict[str, Any]:
    order: dict[str, Any] = {"notes": [], "references": [], "lines": []}
    order_rows = [group.header] if group.header is not None else group.rows
    chosen: dict[int, tuple[object, Row]] = {}  # id(field) → its first value and the row it came from
    known: dict[int, str] = {}  # id(field) → the cell text of that first value
    for row in order_rows:
        for field, value, raw in values.read(row, plan.order, known):
            slot = id(field)
            if slot not in chosen:
                chosen[slot], known[slot] = (value, row), raw
            elif chosen[slot][0] != value:
                first_row = chosen[slot][1]
                values.issue(
                    row,
                    field,
                    "TABULAR_INCONSISTENT",
                    f'"{raw.strip()}" differs from "{known[slot].strip()}" on row {first_row.line} of the '
                    "same order",
                )
    for field in plan.order:
        if id(field) in chosen:
            field.assign(order, chosen[id(field)][0])
        elif field.required and order_rows:
            values.issue(order_rows[0], field, "TABULAR_REQUIRED", "a value is required")
    for position, row in enumerate(group.rows, start=1):
        line: dict[str, Any] = {"item_identifiers": [], "notes": []}
        for field, value, _raw in values.read(row, plan.line):
            field.assign(line, value)
        line.setdefault("line_number", str(position))
        order["lines"].append(line)
    return order


def _validated(
    assembled: dict[str, Any],
    group: Group,
    plan: Plan,
    header: InterchangeHeader,
    ordinal: int,
    errors: list[Issue],
) -> Order | None:
    assembled["source"] = {
        "format": plan.source_format,
        "message_type": plan.message_type,
        "sender_id": header.sender_id or None,
        "sender_qualifier": header.sender_qualifier,
        "receiver_id": header.receiver_id or None,
        "receiver_qualifier": header.receiver_qualifier,
        "interchange_control_ref": header.control_ref,
        "message_control_ref": str(ordinal),
    }
    try:
        return Order.model_validate(assembled)
    except ValidationError as refused:
        first = refused.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        errors.append(
            Issue(
                code="TABULAR_CONTENT",
                message=f"row {group.first_line}: the order cannot be built: {where}: {first['msg']}",
                segment=group.segment,
                position=group.first_line,
            )
        )
        return None


__all__ = ["RowValues", "build"]
