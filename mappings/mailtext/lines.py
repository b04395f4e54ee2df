"""The template's text → named fields and table rows, each with its line number; problems as issues.

Only the shape is judged here (which line is a field, the header, a row, the end); values are read in
`order.py`. The block ends at `END`, at a signature separator (`-- `), or at the first line after the
table that is no row, so a greeting or signature below the table is ignored rather than refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.core.errors import Issue

MARKER = "ORDERGATE ORDER"

# Field names as a person types them (case, spaces, `_`, `-` and a trailing `.` do not matter) → key.
FIELDS = {
    "order": "order",
    "order number": "order",
    "order no": "order",
    "po": "order",
    "po number": "order",
    "buyer": "buyer",
    "buyer id": "buyer",
    "buyer name": "buyer_name",
    "supplier": "supplier",
    "supplier id": "supplier",
    "date": "date",
    "order date": "date",
    "delivery date": "delivery_date",
    "deliver by": "delivery_date",
    "currency": "currency",
    "ship to": "ship_to",
    "ship to id": "ship_to_id",
    "ship to gln": "ship_to_id",
    "note": "note",
    "notes": "note",
}
REPEATABLE = {"note"}
SHOWN_FIELDS = "Order, Buyer, Buyer name, Supplier, Date, Delivery date, Currency, Ship to, Ship to id, Note"

COLUMNS = {
    "sku": "sku",
    "item": "sku",
    "article": "sku",
    "item number": "sku",
    "article number": "sku",
    "gtin": "gtin",
    "ean": "gtin",
    "description": "description",
    "desc": "description",
    "qty": "qty",
    "quantity": "qty",
    "unit": "unit",
    "uom": "unit",
    "price": "price",
    "unit price": "price",
}
SHOWN_COLUMNS = "SKU, GTIN, Description, Qty, Unit, Price"

_FIELD_LINE = re.compile(r"^([A-Za-z][A-Za-z _.-]*?)\s*:\s*(.*)$")
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]


@dataclass(slots=True)
class Template:
    marker_line: int
    fields: dict[str, list[Field]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    header_line: int | None = None
    markdown: bool = False
    rows: list[Row] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def value(self, key: str) -> Field | None:
        found = self.fields.get(key)
        return found[0] if found else None

    def error(self, code: str, line: int, message: str, element: str | None = None) -> None:
        self.issues.append(
            Issue(code=f"MAILTEXT_{code}", message=f"line {line}: {message}", position=line, element=element)
        )


def normalise(name: str) -> str:
    return " ".join(re.split(r"[\s_-]+", name.strip().rstrip(".").lower())).strip()


def is_marker(line: str) -> bool:
    return " ".join(line.split()).upper() == MARKER


def cells(line: str, *, markdown: bool) -> list[str]:
    """A table line's cells: `a | b`, or Markdown's `| a | b |` (when the header line starts with `|`;
    otherwise a leading `|` is an empty first cell)."""
    text = line.strip()
    if markdown and text.startswith("|"):
        text = text[1:]
    if markdown and text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text.split("|")]


def read_template(text: str) -> Template | None:
    """The template's parts, or None when the text does not start with the marker line."""
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if line.strip()), None)
    if start is None or not is_marker(lines[start]):
        return None
    template = Template(marker_line=start + 1)
    for number, raw in enumerate(lines[start + 1 :], start + 2):
        line = raw.strip()
        if not line:
            continue
        if line.upper() == "END" or raw.rstrip("\r\n") in ("-- ", "--"):
            break
        if template.header_line is not None and "|" not in line:
            break  # the table is over: a greeting or signature follows
        if template.header_line is None and _field(template, number, line):
            continue
        if "|" in line:
            _table_line(template, number, line)
        else:
            template.error(
                "BAD_LINE",
                number,
                f"{_shown(line)} is neither a field (`Order: 4711`) nor a table row (`SKU | Qty | Price`)",
            )
    return template


def _field(template: Template, number: int, line: str) -> bool:
    """Take `Name: value` as a field; False when the line is no field line (a table header, say)."""
    match = _FIELD_LINE.match(line)
    if match is None:
        return False
    name, value = match.group(1), match.group(2).strip()
    key = FIELDS.get(normalise(name))
    if key is None:
        if "|" in line:
            return False  # `Description: …| Qty` is read as a table line
        template.error("UNKNOWN_FIELD", number, f"{name!r} is not a field of the template ({SHOWN_FIELDS})")
        return True
    if key in template.fields and key not in REPEATABLE:
        first = template.fields[key][0].line
        template.error("DUPLICATE_FIELD", number, f"{name} is given twice (first on line {first})", key)
        return True
    if not value:
        template.error("EMPTY_FIELD", number, f"{name} has no value", key)
        return True
    template.fields.setdefault(key, []).append(Field(key, value, number))
    return True


def _table_line(template: Template, number: int, line: str) -> None:
    if template.header_line is None:
        template.markdown = line.startswith("|")
        _header(template, number, cells(line, markdown=template.markdown))
        return
    found = cells(line, markdown=template.markdown)
    if all(_SEPARATOR_CELL.match(cell) for cell in found if cell) and any(found):
        return  # Markdown's |---|---| under the header
    if len(found) > len(template.columns):
        template.error(
            "BAD_ROW",
            number,
            f"{len(found)} cells, but the table has {len(template.columns)} columns ({' | '.join(template.columns)})",
        )
        return
    padded = found + [""] * (len(template.columns) - len(found))
    template.rows.append(Row(number, dict(zip(template.columns, padded, strict=True))))


def _header(template: Template, number: int, found: list[str]) -> None:
    template.header_line = number
    columns: list[str] = []
    for cell in found:
        key = COLUMNS.get(normalise(cell))
        if key is None:
            template.error(
                "BAD_HEADER", number, f"{cell!r} is not a column of the template ({SHOWN_COLUMNS})", cell
            )
            key = f"?{len(columns)}"
        elif key in columns:
            template.error("BAD_HEADER", number, f"column {cell} is given twice", cell)
            key = f"?{len(columns)}"
        columns.append(key)
    template.columns = columns
    if "qty" not in columns:
        template.error("BAD_HEADER", number, "the table needs a Qty column")
    if "sku" not in columns and "gtin" not in columns:
        template.error("BAD_HEADER", number, "the table needs a SKU or a GTIN column")


def _shown(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "…")


__all__ = ["COLUMNS", "FIELDS", "MARKER", "Field", "Row", "Template", "cells", "is_marker", "read_template"]
