"""Rules over a whole mapping, run when it is loaded: each problem is one line naming the field.

Kept apart from the model so each rule reads on its own: where values may sit in this layout, which
targets must (or must only once) be mapped, which record a field is read from, and that fixed-width
fields do not overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mappings.tabular.convert import Converter, separators
from mappings.tabular.targets import TARGETS, resolve
from mappings.tabular.values import ValueProblem

if TYPE_CHECKING:
    from mappings.tabular.model import FieldSpec, Location, RecordGrouping, TabularMapping


def mapping_problems(mapping: TabularMapping) -> list[str]:
    return [
        *_placement(mapping),
        *_targets(mapping),
        *_records(mapping),
        *_overlaps(mapping),
        *_values(mapping),
    ]


def field_label(index: int, spec: FieldSpec) -> str:
    return f'fields[{index}] ("{spec.target}")'


def record_of(spec: FieldSpec, grouping: RecordGrouping) -> str:
    """The record type a field is read from: as declared, else the header record for order and file
    values and the line record for line values."""
    if spec.record is not None:
        return spec.record
    return grouping.line if resolve(spec.target).level == "line" else grouping.header


def _placed(label: str, location: Location | None, kind: str, header: bool) -> Iterator[str]:
    if location is None:
        return
    if kind == "csv" and location.start is not None:
        yield f"{label}: start/length are fixed-width positions; a CSV layout takes column"
    if kind == "fixed" and location.column is not None:
        yield f"{label}: column is for CSV; a fixed-width layout takes start and length (or end)"
    if kind == "csv" and isinstance(location.column, str) and not header:
        yield f'{label}: column "{location.column}" is a header name, but layout.header is false: use numbers'


def _placement(mapping: TabularMapping) -> Iterator[str]:
    layout = mapping.layout
    header = getattr(layout, "header", False)
    for index, spec in enumerate(mapping.fields):
        yield from _placed(field_label(index, spec), spec, layout.kind, header)
    yield from _placed("layout.record_type", layout.record_type, layout.kind, header)
    counts = getattr(mapping.grouping, "counts", None)
    if counts is not None:
        for name in ("orders", "lines", "records"):
            yield from _placed(f"grouping.counts.{name}", getattr(counts, name), layout.kind, header)


def _targets(mapping: TabularMapping) -> Iterator[str]:
    seen: dict[str, int] = {}
    for index, spec in enumerate(mapping.fields):
        if spec.target in seen and not resolve(spec.target).repeatable:
            yield f"{field_label(index, spec)}: target already mapped by fields[{seen[spec.target]}]"
        seen.setdefault(spec.target, index)
    for path in (p for p, t in TARGETS.items() if t.always_required):
        if path not in seen:
            yield f'no field maps "{path}": every order needs it'


def _records(mapping: TabularMapping) -> Iterator[str]:
    grouping, record_type = mapping.grouping, mapping.layout.record_type
    if grouping.by == "key":
        if record_type is not None:
            yield 'layout.record_type needs grouping.by = "records"'
        for index, spec in enumerate(mapping.fields):
            if spec.record is not None:
                yield f'{field_label(index, spec)}: record applies only with grouping.by = "records"'
        return
    if record_type is None:
        yield 'grouping.by = "records" needs layout.record_type: where the record type is in each record'
    for index, spec in enumerate(mapping.fields):
        if spec.constant is not None:
            continue
        expected = grouping.line if resolve(spec.target).level == "line" else grouping.header
        if record_of(spec, grouping) != expected:
            yield (
                f'{field_label(index, spec)}: read from record "{spec.record}", but its values belong to '
                f'the "{expected}" record'
            )


def _overlaps(mapping: TabularMapping) -> Iterator[str]:
    """Fixed-width fields of one record type must not share positions (the record type's own
    positions included): an overlap is nearly always a typo in start or length."""
    if mapping.layout.kind != "fixed":
        return
    grouping = mapping.grouping
    by_record: dict[str | None, list[tuple[tuple[int, int], str]]] = {}
    for index, spec in enumerate(mapping.fields):
        if spec.span is not None:
            record = record_of(spec, grouping) if grouping.by == "records" else None
            by_record.setdefault(record, []).append((spec.span, field_label(index, spec)))
    if grouping.by == "records" and grouping.counts is not None:
        for name in ("orders", "lines", "records"):
            location = getattr(grouping.counts, name)
            if location is not None and location.span is not None:
                by_record.setdefault(grouping.trailer, []).append((location.span, f"grouping.counts.{name}"))
    record_type = mapping.layout.record_type
    for spans in by_record.values():
        if record_type is not None and record_type.span is not None:
            spans.append((record_type.span, "layout.record_type"))
        yield from _overlapping(sorted(spans))


def _overlapping(spans: list[tuple[tuple[int, int], str]]) -> Iterator[str]:
    reach: tuple[tuple[int, int], str] | None = None  # the span reaching furthest right so far
    for span, label in spans:
        if reach is not None and span[0] <= reach[0][1]:
            yield (
                f"{label} (positions {span[0]}-{span[1]}) overlaps {reach[1]} "
                f"(positions {reach[0][0]}-{reach[0][1]})"
            )
        if reach is None or span[1] > reach[0][1]:
            reach = (span, label)


def _values(mapping: TabularMapping) -> Iterator[str]:
    for index, spec in enumerate(mapping.fields):
        label = field_label(index, spec)
        if resolve(spec.target).kind == "decimal":
            decimal, thousands = separators(spec, mapping.values)
            if decimal == thousands:
                yield f'{label}: decimal and thousands separators are both "{decimal}"'
                continue
        for name, text in (("constant", spec.constant), ("default", spec.default)):
            if text is None:
                continue
            try:
                Converter.build(spec, mapping.values).convert(text)
            except ValueProblem as problem:
                yield f"{label}: {name} {problem}"


__all__ = ["field_label", "mapping_problems", "record_of"]
