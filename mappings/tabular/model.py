"""The mapping file as a pydantic model: what a partner's flat file looks like and what each column means.

A pydantic v2 model so that a mapping loaded from TOML can be stored beside a partner as JSON and read
back unchanged (`model_dump(mode="json")` / `model_validate`). Single fields validate themselves here;
rules that need the whole mapping (overlapping positions, targets mapped twice, a named column in a file
without a header row) live in `checks.py` and run when the model is built, so a bad mapping never
reaches a file.
"""

from __future__ import annotations

import codecs
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from mappings.tabular.checks import mapping_problems
from mappings.tabular.targets import resolve
from mappings.tabular.values import check_date_pattern

DecimalSeparator = Literal[".", ","]
ThousandsSeparator = Literal["", ".", ",", " ", "'", "\u00a0", "\u202f"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    """Where a value sits: a CSV column (header name, or 1-based index) or fixed-width positions
    (1-based, as partner specs print them: `start` plus `length`, or `start` to `end` inclusive)."""

    column: StrictStr | StrictInt | None = None
    start: PositiveInt | None = None
    length: PositiveInt | None = None
    end: PositiveInt | None = None

    @model_validator(mode="after")
    def _one_place(self) -> Location:
        if self.column is not None and self.start is not None:
            raise ValueError("give either column (CSV) or start (fixed-width), not both")
        if isinstance(self.column, int) and self.column < 1:
            raise ValueError("column numbers start at 1")
        if self.column == "":
            raise ValueError("column name is empty")
        if self.start is None and (self.length is not None or self.end is not None):
            raise ValueError("length or end needs a start position")
        if self.start is not None:
            if (self.length is None) == (self.end is None):
                raise ValueError("a fixed-width position needs start plus either length or end")
            if self.end is not None and self.end < self.start:
                raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def span(self) -> tuple[int, int] | None:
        """First and last position, 1-based and inclusive."""
        if self.start is None:
            return None
        return self.start, self.end if self.end is not None else self.start + (self.length or 1) - 1

    @property
    def is_placed(self) -> bool:
        return self.column is not None or self.start is not None


class FieldSpec(Location):
    """One canonical target and where its value comes from, with how to read it."""

    target: str
    name: str | None = Field(default=None, description="Label in errors (fixed-width fields, constants)")
    record: str | None = Field(default=None, description="Record type it is read from (record grouping)")
    constant: StrictStr | None = None
    default: StrictStr | None = Field(default=None, description="Used when the cell is empty")
    required: bool = False
    scheme: str | None = Field(default=None, description="Identifier scheme for party ids (GLN, DUNS …)")
    trim: bool | None = None
    dates: list[str] | None = None
    decimal: DecimalSeparator | None = None
    thousands: ThousandsSeparator | None = None
    implied_decimals: Annotated[int, Field(ge=0, le=9)] = 0
    map: dict[str, str] = Field(default_factory=dict, description="Partner value → canonical value")
    unmapped: Literal["keep", "error"] = "keep"

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        resolve(value)
        return value

    @field_validator("dates")
    @classmethod
    def _date_patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            check_date_pattern(pattern)
        if value == []:
            raise ValueError("dates needs at least one pattern")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        target = resolve(self.target)
        if self.constant is not None and self.is_placed:
            raise ValueError("a constant has no column or position")
        if self.constant is None and not self.is_placed:
            raise ValueError("say where the value is (column, or start) or give a constant")
        if self.constant is not None and (self.default is not None or self.record is not None):
            raise ValueError("a constant takes no default and no record")
        if self.scheme is not None and not target.is_identifier:
            raise ValueError("scheme only applies to party ids (buyer.id …)")
        if target.kind != "decimal" and (self.implied_decimals or self.decimal or self.thousands is not None):
            raise ValueError("not a number target: decimal, thousands and implied_decimals do not apply")
        if target.kind != "date" and self.dates is not None:
            raise ValueError("not a date target: dates do not apply")
        if self.unmapped == "error" and not self.map:
            raise ValueError('unmapped = "error" needs a map')
        return self


class CsvLayout(_Strict):
    kind: Literal["csv"]
    delimiter: str = ","
    quote_char: str = Field(default='"', description='"" for files without quoting')
    encoding: str = "utf-8"
    header: bool = Field(default=True, description="The first row (after skip_rows) names the columns")
    skip_rows: NonNegativeInt = Field(default=0, description="Lines before the header (titles, notes)")
    repeated_header: Literal["skip", "error"] = Field(
        default="skip", description="A later row equal to the header row (concatenated exports)"
    )
    record_type: Location | None = None

    @field_validator("delimiter", "quote_char")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) > 1 or value in ("\r", "\n"):
            raise ValueError(f"{value!r} must be a single character (and not a line break)")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        return check_encoding(value)

    @model_validator(mode="after")
    def _distinct(self) -> CsvLayout:
        if not self.delimiter:
            raise ValueError("delimiter is empty")
        if self.delimiter == self.quote_char:
            raise ValueError("delimiter and quote_char are the same character")
        return self


class FixedLayout(_Strict):
    kind: Literal["fixed"]
    encoding: str = "utf-8"
    skip_rows: NonNegativeInt = 0
    record_type: Location | None = None

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        return check_encoding(value)


def check_encoding(name: str) -> str:
    """Known to Python and ASCII-compatible, so lines split on b"\\n" and digits are bytes 0x30 to 0x39
    (UTF-16 and EBCDIC files would need a transcoding step first)."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise ValueError(f'unknown encoding "{name}" (utf-8, utf-8-sig, cp1252, latin-1 …)') from None
    try:
        compatible = "\n;,.09AZaz".encode(codec.name) == b"\n;,.09AZaz"
    except UnicodeError:
        compatible = False
    if not compatible:
        raise ValueError(
            f'encoding "{name}" is not ASCII-compatible; ordergate reads utf-8, cp1252, latin-1 …'
        )
    return name


class Counts(_Strict):
    """Counts a trailer record carries, checked against what was read."""

    orders: Location | None = None
    lines: Location | None = None
    records: Location | None = None
    records_include_trailer: bool = Field(
        default=True, description="Whether the records count includes the trailer record itself"
    )


class KeyGrouping(_Strict):
    """One row per order line; order-level columns repeat on each row; rows of one order are consecutive."""

    by: Literal["key"] = "key"


class RecordGrouping(_Strict):
    """Record types: a header record starts an order, line records follow, an optional trailer closes the file."""

    by: Literal["records"]
    header: str = "H"
    line: str = "L"
    trailer: str | None = None
    ignore: list[str] = Field(default_factory=list, description="Record types to skip (comments, texts)")
    counts: Counts | None = None

    @model_validator(mode="after")
    def _distinct(self) -> RecordGrouping:
        types = [self.header, self.line, *([self.trailer] if self.trailer else []), *self.ignore]
        if len(set(types)) != len(types) or "" in types:
            raise ValueError(f"record types must be distinct and not empty: {types}")
        if self.counts is not None and self.trailer is None:
            raise ValueError("counts are read from the trailer: name the trailer record type")
        return self


class ValueDefaults(_Strict):
    """How values are written in this file; each field may override."""

    trim: bool = True
    dates: list[str] = Field(default_factory=lambda: ["%Y-%m-%d"], min_length=1)
    decimal: DecimalSeparator = "."
    thousands: ThousandsSeparator = ""
    null_values: list[str] = Field(
        default_factory=list, description='Values that mean "empty", such as "00000000" dates'
    )

    @field_validator("dates")
    @classmethod
    def _date_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            check_date_pattern(pattern)
        return value


Layout = Annotated[CsvLayout | FixedLayout, Field(discriminator="kind")]
Grouping = Annotated[KeyGrouping | RecordGrouping, Field(discriminator="by")]


class TabularMapping(_Strict):
    """A partner's flat-file layout and what each of its columns means."""

    name: str = ""
    message_type: str | None = Field(default=None, description='OrderSource.message_type; "CSV" by default')
    layout: Layout
    grouping: Grouping = Field(default_factory=KeyGrouping)
    values: ValueDefaults = Field(default_factory=ValueDefaults)
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_grouping(cls, data: object) -> object:
        """`[grouping]` without `by` means grouping by key, as when it is absent."""
        if isinstance(data, dict) and isinstance(data.get("grouping"), dict) and "by" not in data["grouping"]:
            return {**data, "grouping": {**data["grouping"], "by": "key"}}
        return data

    @model_validator(mode="after")
    def _whole(self) -> TabularMapping:
        problems = mapping_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self


__all__ = [
    "Counts",
    "CsvLayout",
    "FieldSpec",
    "FixedLayout",
    "KeyGrouping",
    "Location",
    "RecordGrouping",
    "TabularMapping",
    "ValueDefaults",
]
