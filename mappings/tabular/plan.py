"""A mapping compiled for reading: each field with its converter, sorted by the level it fills."""

from __future__ import annotations

from dataclasses import dataclass

from mappings.tabular.assign import Setter, setter
from mappings.tabular.checks import record_of
from mappings.tabular.convert import Converter
from mappings.tabular.model import FieldSpec, RecordGrouping, TabularMapping
from mappings.tabular.targets import Target, resolve

SOURCE_FORMATS = {"csv": "csv", "fixed": "fixed-width"}
"""`OrderSource.format` per layout kind."""
MESSAGE_TYPES = {"csv": "CSV", "fixed": "FIXED-WIDTH"}
"""`OrderSource.message_type` per layout kind, unless the mapping names one."""


@dataclass(frozen=True, slots=True)
class PlannedField:
    spec: FieldSpec
    target: Target
    converter: Converter
    required: bool
    constant: object | None  # the converted constant, for fields without a column
    assign: Setter  # puts a value into the order (or line) being assembled

    @property
    def name(self) -> str:
        return self.spec.name or self.target.path


@dataclass(frozen=True, slots=True)
class Plan:
    mapping: TabularMapping
    interchange: tuple[PlannedField, ...]
    order: tuple[PlannedField, ...]
    line: tuple[PlannedField, ...]
    key: PlannedField  # order_number: groups rows by key, names the order
    source_format: str
    message_type: str

    @classmethod
    def compile(cls, mapping: TabularMapping) -> Plan:
        fields = [_planned(spec, mapping) for spec in mapping.fields]
        kind = mapping.layout.kind
        return cls(
            mapping=mapping,
            interchange=tuple(f for f in fields if f.target.level == "interchange"),
            order=tuple(f for f in fields if f.target.level == "order"),
            line=tuple(f for f in fields if f.target.level == "line"),
            key=next(f for f in fields if f.target.path == "order_number"),
            source_format=SOURCE_FORMATS[kind],
            message_type=mapping.message_type or MESSAGE_TYPES[kind],
        )

    @property
    def records(self) -> RecordGrouping | None:
        grouping = self.mapping.grouping
        return grouping if isinstance(grouping, RecordGrouping) else None

    def record_of(self, field: PlannedField) -> str | None:
        records = self.records
        return record_of(field.spec, records) if records is not None else None


def _planned(spec: FieldSpec, mapping: TabularMapping) -> PlannedField:
    converter = Converter.build(spec, mapping.values)
    target = resolve(spec.target)
    return PlannedField(
        spec=spec,
        target=target,
        converter=converter,
        required=spec.required or target.always_required,
        constant=converter.convert(spec.constant) if spec.constant is not None else None,
        assign=setter(target, spec.scheme),
    )


__all__ = ["MESSAGE_TYPES", "SOURCE_FORMATS", "Plan", "PlannedField"]
