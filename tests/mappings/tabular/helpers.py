"""Shared by the flat-file tests: the fixtures, and translating text with an inline mapping."""

from __future__ import annotations

from pathlib import Path

from mappings.tabular import TabularFormat, TabularMapping, load_mapping
from mappings.translate import Translation, translate

FIXTURES = Path(__file__).resolve().parent / "fixtures"

CSV_BASE = """
[layout]
kind = "csv"
delimiter = ";"

[values]
decimal = ","
dates = ["%d.%m.%Y"]

[[fields]]
target = "order_number"
column = "order"

[[fields]]
target = "order_date"
column = "date"

[[fields]]
target = "lines.seller_item_id"
column = "item"
required = true

[[fields]]
target = "lines.quantity"
column = "qty"
"""
"""A small semicolon CSV mapping: order;date;item;qty."""

CSV_HEADER = "order;date;item;qty\n"


def fixture_mapping(name: str) -> TabularMapping:
    return load_mapping(FIXTURES / f"{name}.toml")


def run(mapping: TabularMapping | str, data: bytes | str) -> Translation:
    """Translate a document with a mapping (a TabularMapping, or TOML text)."""
    if isinstance(mapping, str):
        mapping = load_mapping(mapping)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return translate(raw, format=TabularFormat(mapping))


def csv_run(body: str, extra: str = "") -> Translation:
    """The small CSV mapping (plus extra TOML) over the header row and `body`."""
    return run(CSV_BASE + extra, CSV_HEADER + body)
