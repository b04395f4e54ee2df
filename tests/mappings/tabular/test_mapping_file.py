"""Loading mapping files: every mistake reported with its path when the mapping is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mappings.tabular import MappingFileError, TabularMapping, load_mapping
from mappings.tabular.targets import TARGETS
from tests.mappings.tabular.helpers import CSV_BASE, FIXTURES, fixture_mapping

DOCS = Path(__file__).resolve().parents[3] / "docs" / "mapping-files.md"

FIXED = """
[layout]
kind = "fixed"
record_type = { start = 1, length = 1 }

[grouping]
by = "records"
trailer = "T"
counts = { lines = { start = 1, length = 4 } }

[[fields]]
target = "order_number"
start = 2
length = 10

[[fields]]
target = "lines.quantity"
start = 2
length = 9

[[fields]]
target = "lines.unit"
start = 10
length = 3
"""


def problems(text: str) -> list[str]:
    with pytest.raises(MappingFileError) as raised:
        load_mapping(text)
    assert raised.value.code == "MAPPING_FILE_INVALID"
    return raised.value.problems


def with_field(body: str) -> str:
    return CSV_BASE + "\n[[fields]]\n" + body + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            with_field('target = "lines.qty"\ncolumn = "q"'),
            'fields[4].target: unknown target "lines.qty" (did you mean "lines.quantity"?)',
        ),
        (with_field('target = "lines.unit"\ncolum = "u"'), "fields[4].colum: unknown key (a typo?)"),
        (
            with_field('target = "order_date"\ncolumn = "d2"'),
            'fields[4] ("order_date"): target already mapped by fields[1]',
        ),
        (
            with_field('target = "lines.unit"\nstart = 3\nlength = 2'),
            'fields[4] ("lines.unit"): start/length are fixed-width positions; a CSV layout takes column',
        ),
        (
            with_field('target = "buyer.name"\ncolumn = "b"\nscheme = "GLN"'),
            'fields[4] ("buyer.name"): scheme only applies to party ids',
        ),
        (with_field('target = "buyer.name"'), 'fields[4] ("buyer.name"): say where the value is'),
        (
            with_field('target = "lines.unit_price"\nconstant = "abc"'),
            'fields[4] ("lines.unit_price"): constant "abc" is not a number',
        ),
        (
            with_field('target = "lines.unit"\ncolumn = "u"\nimplied_decimals = 2'),
            'fields[4] ("lines.unit"): not a number target',
        ),
        (
            CSV_BASE.replace('dates = ["%d.%m.%Y"]', 'dates = ["%d.%m"]'),
            'values.dates: date pattern "%d.%m" does not give a whole date',
        ),
        (
            CSV_BASE.replace('dates = ["%d.%m.%Y"]', 'dates = ["%d.%m.%Q"]'),
            'values.dates: date pattern "%d.%m.%Q" is not a strftime pattern',
        ),
        (
            CSV_BASE.replace('delimiter = ";"', 'delimiter = ";"\nencoding = "utf-16"'),
            'layout.encoding: encoding "utf-16" is not ASCII-compatible',
        ),
        (
            CSV_BASE.replace('delimiter = ";"', 'delimiter = ";"\nencoding = "klingon"'),
            'layout.encoding: unknown encoding "klingon"',
        ),
        (
            CSV_BASE.replace('decimal = ","', 'decimal = ","\nthousands = ","'),
            'fields[3] ("lines.quantity"): decimal and thousands separators are both ","',
        ),
        (
            CSV_BASE.replace('delimiter = ";"', 'delimiter = ";"\nheader = false'),
            'fields[0] ("order_number"): column "order" is a header name, but layout.header is false',
        ),
        (CSV_BASE + '\n[grouping]\nby = "records"\n', 'grouping.by = "records" needs layout.record_type'),
        (
            '[layout]\nkind = "xlsx"\n[[fields]]\ntarget = "order_number"\ncolumn = 1',
            "layout: 'kind' 'xlsx' is not one of",
        ),
        (
            '[layout]\nkind = "csv"\n[[fields]]\ntarget = "order_number"\ncolumn = 1',
            'no field maps "lines.quantity"',
        ),
        ('[[fields]]\ntarget = "order_number"\ncolumn = 1', "layout: missing"),
        (
            FIXED,
            'fields[2] ("lines.unit") (positions 10-12) overlaps fields[1] ("lines.quantity") (positions 2-10)',
        ),
        (FIXED, "grouping.counts.lines (positions 1-4) overlaps layout.record_type (positions 1-1)"),
        (FIXED.replace("length = 9", "end = 1"), 'fields[1] ("lines.quantity"): end 1 is before start 2'),
    ],
)
def test_mapping_mistakes_are_named_with_their_path(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_listed_at_once() -> None:
    text = CSV_BASE.replace('column = "qty"', 'column = "qty"\nscheme = "X"').replace(
        'target = "order_date"', 'target = "order_day"'
    )
    found = problems(text)
    assert len(found) == 2
    with pytest.raises(MappingFileError) as raised:
        load_mapping(text)
    assert raised.value.message.startswith("the mapping has 2 problem(s):")


def test_toml_syntax_errors_give_the_line() -> None:
    with pytest.raises(MappingFileError) as raised:
        load_mapping('name = "x"\n[layout\nkind = "csv"\n')
    assert raised.value.position == 2 and "not valid TOML" in raised.value.message


def test_load_from_path_text_json_and_data(tmp_path: Path) -> None:
    from_path = fixture_mapping("nordlicht")
    text = (FIXTURES / "nordlicht.toml").read_text(encoding="utf-8")
    assert load_mapping(text) == from_path
    assert load_mapping(str(FIXTURES / "nordlicht.toml")) == from_path
    stored = json.dumps(from_path.model_dump(mode="json"))
    assert load_mapping(stored) == from_path
    json_file = tmp_path / "partner.json"
    json_file.write_text(stored, encoding="utf-8")
    assert load_mapping(json_file) == from_path
    assert load_mapping(json.loads(stored)) == from_path
    assert TabularMapping.model_validate_json(stored) == from_path


def test_an_unreadable_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match="cannot read the mapping file"):
        load_mapping(tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes('name = "M\xfcller"\n'.encode("latin-1"))
    with pytest.raises(MappingFileError, match="not UTF-8"):
        load_mapping(tmp_path / "latin.toml")


def test_grouping_defaults_to_key() -> None:
    mapping = load_mapping(CSV_BASE + "\n[grouping]\n")
    assert mapping.grouping.by == "key"


def test_every_target_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    generic = {path.replace("ship_to.", "<party>.").replace("buyer.", "<party>.") for path in TARGETS}
    missing = [
        p for p in sorted(generic) if not p.startswith(("seller.", "bill_to.")) and f"`{p}`" not in text
    ]
    assert missing == []
    assert "`references.<qualifier>`" in text


def test_the_documented_examples_load_and_match_the_fixtures() -> None:
    blocks = DOCS.read_text(encoding="utf-8").split("```toml\n")[1:]
    examples = [load_mapping(block.split("```", 1)[0]) for block in blocks]
    assert examples[0] == fixture_mapping("mueller")
    assert examples[-1].layout == fixture_mapping("nordlicht").layout
    assert examples[-1].grouping == fixture_mapping("nordlicht").grouping
