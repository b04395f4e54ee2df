"""The layouts a mapping can declare (`layout.kind`), each a `LayoutReader` made from the mapping."""

from __future__ import annotations

from collections.abc import Callable

from mappings.tabular.csv_rows import CsvRows
from mappings.tabular.fixed_rows import FixedRows
from mappings.tabular.model import TabularMapping
from mappings.tabular.rows import LayoutReader

LAYOUTS: dict[str, Callable[[TabularMapping], LayoutReader]] = {"csv": CsvRows, "fixed": FixedRows}


def layout_reader(mapping: TabularMapping) -> LayoutReader:
    return LAYOUTS[mapping.layout.kind](mapping)


__all__ = ["LAYOUTS", "layout_reader"]
