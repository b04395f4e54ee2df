"""Which formats exist. Built-in formats are listed once here; plugins register through the
`ordergate.formats` entry-point group, so adding a format never means editing a chain of ifs."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from mappings.base import Format

BUILTIN_FORMATS = (
    "mappings.edifact:FORMAT",
    "mappings.x12:FORMAT",
    "mappings.marketplace:FORMAT",
    "mappings.ubl:FORMAT",
    "mappings.cxml:FORMAT",
    "mappings.mailtext:FORMAT",
)
SNIFF_BYTES = 4096


def _load(target: str) -> Format:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


@cache
def formats() -> tuple[Format, ...]:
    found = [_load(target) for target in BUILTIN_FORMATS]
    found.extend(ep.load() for ep in entry_points(group="ordergate.formats"))
    return tuple(found)


def get(name: str) -> Format | None:
    return next((f for f in formats() if f.name == name), None)


def detect(head: bytes) -> Format | None:
    """The format whose sniffer recognises the first bytes of a document, if any."""
    head = head[:SNIFF_BYTES]
    return next((f for f in formats() if f.sniff(head)), None)
