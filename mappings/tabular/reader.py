"""A whole flat file → events: one `InterchangeHeader`, then one `MessageOutcome` per order.

The file is one interchange. Its control reference is a mapped column or, by default, a prefix of the
sha256 of the bytes, so a resent file is recognised as such. Bad rows become errors on their order's
outcome and the reading goes on, so one run shows every bad row; past `MAX_ERRORS` it stops with a
`ParseError` (a mapping that does not fit the file would otherwise list every cell).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from itertools import chain

from gateway.core.errors import ParseError
from mappings.base import CHUNK_SIZE, Event, InterchangeHeader, Source, iter_chunks
from mappings.tabular.build import RowValues, build
from mappings.tabular.decode import physical_lines
from mappings.tabular.grouping import Group, groups
from mappings.tabular.layouts import layout_reader
from mappings.tabular.plan import Plan
from mappings.tabular.rows import LayoutReader

MAX_ERRORS = 100
CONTROL_REF_PREFIX = "sha256:"
CONTROL_REF_HEX = 20
"""80 bits of the content hash: unique per partner for any realistic number of files, and with the
prefix within the 35 characters an interchange reference may have."""


def read_file(plan: Plan, source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[Event]:
    source, digest = _fingerprint(source)
    reader = layout_reader(plan.mapping)
    rows = reader.rows(physical_lines(source, plan.mapping.layout.encoding, chunk_size))
    found = groups(rows, plan, reader)
    first = next(found, None)
    if first is None:
        raise _nothing_read(reader)
    header = _interchange(plan, reader, first, f"{CONTROL_REF_PREFIX}{digest[:CONTROL_REF_HEX]}")
    yield header
    errors = 0
    for ordinal, group in enumerate(chain([first], found), start=1):
        outcome = build(group, plan, reader, header, ordinal)
        errors += len(outcome.errors)
        if errors > MAX_ERRORS:
            del outcome.errors[len(outcome.errors) - (errors - MAX_ERRORS) :]
            yield outcome
            raise ParseError(
                f"more than {MAX_ERRORS} errors, reading stopped at line {group.first_line}: does the "
                "mapping fit this file?",
                code="TABULAR_TOO_MANY_ERRORS",
                segment=group.segment,
                position=group.first_line,
            )
        yield outcome


def _fingerprint(source: Source) -> tuple[Source, str]:
    """The content hash, leaving the source readable from its start. A stream that cannot seek is
    read into memory once: the hash must be known before the first event."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return data, hashlib.sha256(data).hexdigest()
    if not source.seekable():
        data = source.read()
        return data, hashlib.sha256(data).hexdigest()
    start = source.tell()
    digest = hashlib.sha256()
    for chunk in iter_chunks(source):
        digest.update(chunk)
    source.seek(start)
    return source, digest.hexdigest()


def _nothing_read(reader: LayoutReader) -> ParseError:
    if reader.saw_header:
        return ParseError("the file has a header row but no data rows", code="TABULAR_NO_ROWS")
    return ParseError("the document is empty: no rows to read", code="EMPTY_DOCUMENT")


def _interchange(plan: Plan, reader: LayoutReader, first: Group, digest_ref: str) -> InterchangeHeader:
    """File-level values (`interchange.*`) come from constants or from the first order's first row."""
    found: dict[str, str] = {}
    row = first.header or (first.rows[0] if first.rows else None)
    if row is not None:
        values = RowValues(reader)
        found = {field.target.path: str(value) for field, value, _raw in values.read(row, plan.interchange)}
        for field in plan.interchange:
            if field.required and field.target.path not in found:
                values.issue(row, field, "TABULAR_REQUIRED", "a value is required")
        first.problems.extend(values.issues)
    else:
        found = {f.target.path: str(f.constant) for f in plan.interchange if f.constant is not None}
    return InterchangeHeader(
        format=plan.mapping.layout.kind,
        sender_id=found.get("interchange.sender_id", ""),
        sender_qualifier=found.get("interchange.sender_qualifier"),
        receiver_id=found.get("interchange.receiver_id", ""),
        receiver_qualifier=found.get("interchange.receiver_qualifier"),
        control_ref=found.get("interchange.control_ref", digest_ref),
        syntax=plan.mapping.layout.encoding,
    )


__all__ = ["CONTROL_REF_HEX", "MAX_ERRORS", "read_file"]
