"""Suppliers' and buyers' own flat files: CSV and fixed-width, read through a per-partner mapping file.

A flat file says nothing about itself: which column is the quantity is the partner's choice, so the
format is made from a mapping (`load_mapping`, documented in docs/mapping-files.md) and is attached to
a partner or channel rather than registered for detection.

targets.py     the canonical paths a column can fill
model.py       the mapping file as pydantic models (checks.py: rules over the whole mapping)
load.py        TOML or JSON → `TabularMapping`, every mistake listed with its path
values.py      numbers, dates; convert.py: one field's cell → value (trim, default, value map)
decode.py      bytes → numbered lines; rows.py, csv_rows.py, fixed_rows.py, layouts.py: lines → rows
grouping.py    rows → one group per order (by key, or by H/L/T records with trailer counts)
build.py       group → `Order`; reader.py: the events of a whole file
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from gateway.core.errors import ParseError
from mappings.base import CHUNK_SIZE, Event, Source
from mappings.tabular.decode import physical_lines
from mappings.tabular.layouts import layout_reader
from mappings.tabular.load import MappingFileError, load_mapping
from mappings.tabular.model import RecordGrouping, TabularMapping
from mappings.tabular.plan import Plan
from mappings.tabular.reader import read_file


class TabularFormat:
    """The `Format` of one partner's flat files. `TabularFormat(mapping)` gives a `CsvFormat` or a
    `FixedWidthFormat`: `Format.name` is a class attribute and names the stored document's format, so
    each layout is its own class."""

    name: ClassVar[str] = "tabular"
    label: ClassVar[str] = "flat file with a mapping"

    def __new__(cls, mapping: TabularMapping) -> TabularFormat:
        if cls is TabularFormat:
            cls = BY_LAYOUT[mapping.layout.kind]
        return super().__new__(cls)

    def __init__(self, mapping: TabularMapping) -> None:
        self.mapping = mapping
        self.plan = Plan.compile(mapping)

    def sniff(self, head: bytes) -> bool:
        """True when the first row fits the mapping: the header row has the named columns, or the
        first record has a declared record type, or the first row has the order number's cell."""
        complete = head[: head.rfind(b"\n") + 1] or head
        reader = layout_reader(self.mapping)
        try:
            row = next(reader.rows(physical_lines(complete, self.mapping.layout.encoding)), None)
        except ParseError:
            return False
        if row is None:
            return reader.saw_header  # the head holds a fitting header row and nothing more
        if row.problems:
            return False
        grouping = self.mapping.grouping
        if isinstance(grouping, RecordGrouping):
            return row.record in (grouping.header, *grouping.ignore)
        key = self.plan.key.spec
        return key.constant is not None or bool((reader.cell(row, key) or "").strip())

    def read(self, source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[Event]:
        """Stream events: one `InterchangeHeader` for the file, then one `MessageOutcome` per order."""
        return read_file(self.plan, source, chunk_size)


class CsvFormat(TabularFormat):
    name: ClassVar[str] = "csv"
    label: ClassVar[str] = "CSV file with a mapping"


class FixedWidthFormat(TabularFormat):
    name: ClassVar[str] = "fixed"
    label: ClassVar[str] = "fixed-width file with a mapping"


BY_LAYOUT: dict[str, type[TabularFormat]] = {"csv": CsvFormat, "fixed": FixedWidthFormat}
"""The format class for each `layout.kind` (as `layouts.LAYOUTS` holds its row reader)."""


__all__ = [
    "CsvFormat",
    "FixedWidthFormat",
    "MappingFileError",
    "TabularFormat",
    "TabularMapping",
    "load_mapping",
]
