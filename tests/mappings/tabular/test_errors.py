"""Every way a flat file can be wrong: a plain message, where it is, and no orders from the file."""

from __future__ import annotations

import pytest

from gateway.core.errors import Issue
from mappings.tabular import TabularMapping
from mappings.tabular.reader import MAX_ERRORS
from mappings.translate import Translation
from tests.mappings.tabular.helpers import CSV_BASE, FIXTURES, csv_run, fixture_mapping, run


def rejected(translation: Translation) -> list[Issue]:
    assert translation.status == "rejected" and translation.orders == []
    assert translation.errors
    return translation.errors


def where(issue: Issue) -> tuple[str | None, int | None, str | None]:
    return issue.segment, issue.position, issue.element


def test_a_bad_cell_names_row_column_and_value() -> None:
    [issue] = rejected(csv_run("A1;01.03.2025;X;1\nA1;01.03.2025;Y;12,5x\n"))
    assert issue.code == "TABULAR_VALUE"
    assert issue.message.startswith('row 3, column "qty": "12,5x" is not a number')
    assert where(issue) == ("row", 3, "qty")


def test_every_bad_row_is_reported_and_the_good_order_is_withheld() -> None:
    errors = rejected(
        csv_run(
            "A1;01.03.2025;X;1\n"  # a good order …
            "A2;31.02.2025;X;2\n"  # … and a bad one: no orders at all from the file
            "A2;01.03.2025;;3\n"
            "A2;01.03.2025;Y;\n"
            "A3;1.3.25x;Z;1,5,0\n"
        )
    )
    assert [(e.code, e.position, e.element) for e in errors] == [
        ("TABULAR_VALUE", 3, "date"),
        ("TABULAR_REQUIRED", 4, "item"),
        ("TABULAR_REQUIRED", 5, "qty"),
        ("TABULAR_VALUE", 6, "date"),
        ("TABULAR_VALUE", 6, "qty"),
    ]
    assert "(expected DD.MM.YYYY)" in errors[0].message
    assert errors[1].message == 'row 4, column "item": a value is required'


def test_errors_are_capped_and_reading_stops() -> None:
    errors = rejected(csv_run("".join(f"A{i};01.03.2025;X;x\n" for i in range(MAX_ERRORS * 3))))
    assert len(errors) == MAX_ERRORS + 1
    assert errors[0].code == "TABULAR_TOO_MANY_ERRORS"
    assert errors[0].position == MAX_ERRORS + 2  # the row of the error past the cap
    assert {e.code for e in errors[1:]} == {"TABULAR_VALUE"}


def test_required_order_value_missing_on_every_row() -> None:
    extra = '\n[[fields]]\ntarget = "currency"\ncolumn = "cur"\nrequired = true\n'
    data = "order;date;item;qty;cur\nA1;01.03.2025;X;1;\nA1;01.03.2025;Y;2; \n"
    [issue] = rejected(run(CSV_BASE + extra, data))
    assert issue.code == "TABULAR_REQUIRED"
    assert issue.message == 'row 2, column "cur": a value is required'
    assert where(issue) == ("row", 2, "cur")


def test_an_empty_order_number_is_a_missing_required_value() -> None:
    [issue] = rejected(csv_run(";01.03.2025;X;1\n"))
    assert (issue.code, issue.element) == ("TABULAR_REQUIRED", "order")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_DOCUMENT"),
        (b"\r\n  \r\n", "EMPTY_DOCUMENT"),
        (b"order;date;item;qty\r\n", "TABULAR_NO_ROWS"),
    ],
    ids=["empty", "blank-lines", "header-only"],
)
def test_a_file_without_rows(data: bytes, code: str) -> None:
    [issue] = rejected(run(CSV_BASE, data))
    assert issue.code == code


def test_a_header_without_the_mapped_columns() -> None:
    [issue] = rejected(run(CSV_BASE, "order;day;item;quantity\nA1;01.03.2025;X;1\n"))
    assert issue.code == "TABULAR_HEADER"
    assert '"date", "qty"' in issue.message and '"day"' in issue.message
    assert where(issue) == ("header", 1, "date")


def test_a_header_split_by_another_delimiter_says_so() -> None:
    [issue] = rejected(run(CSV_BASE, "order,date,item,qty\nA1,01.03.2025,X,1\n"))
    assert 'delimited by ","' in issue.message and 'delimiter = ";"' in issue.message


def test_a_header_naming_a_mapped_column_twice() -> None:
    [issue] = rejected(run(CSV_BASE, "order;date;item;qty;qty\nA1;01.03.2025;X;1;2\n"))
    assert (issue.code, issue.element) == ("TABULAR_HEADER", "qty")
    assert "more than once" in issue.message


def test_undecodable_bytes_are_located_on_each_line() -> None:
    declared = fixture_mapping("mueller").model_dump()
    mapping = TabularMapping.model_validate({**declared, "layout": {"kind": "csv", "delimiter": ";"}})
    errors = rejected(run(mapping, (FIXTURES / "mueller_orders.csv").read_bytes()))
    assert {e.code for e in errors} == {"TABULAR_ENCODING"}
    assert [e.position for e in errors] == [2, 3, 4, 5, 6]
    assert errors[0].message.startswith("row 2: byte 40 (0xFC) cannot be decoded as utf-8")
    assert "cp1252" in errors[0].message  # the likely fix


def test_an_undecodable_header_row() -> None:
    [issue] = rejected(run(CSV_BASE, b"order;date;item;q\xfcty\nA1;01.03.2025;X;1\n"))
    assert (issue.code, issue.segment, issue.position) == ("TABULAR_ENCODING", "header", 1)


def test_a_utf8_byte_order_mark_in_a_file_declared_cp1252() -> None:
    mapping = CSV_BASE.replace('delimiter = ";"', 'delimiter = ";"\nencoding = "cp1252"')
    [issue] = rejected(run(mapping, b"\xef\xbb\xbforder;date;item;qty\nA1;01.03.2025;X;1\n"))
    assert issue.code == "TABULAR_ENCODING" and "byte order mark" in issue.message


def test_csv_quoting_errors() -> None:
    errors = rejected(csv_run('A1;01.03.2025;"X"y;1\nA1;01.03.2025;Y;1\nA1;01.03.2025;"Z;1\n'))
    assert [(e.code, e.position) for e in errors] == [("TABULAR_CSV_SYNTAX", 2), ("TABULAR_CSV_SYNTAX", 4)]
    assert "closing quote" in errors[0].message and "never closed" in errors[1].message


def test_a_row_short_of_a_mapped_column() -> None:
    [issue] = rejected(csv_run("A1;01.03.2025;X\n"))
    assert issue.code == "TABULAR_COLUMN_MISSING"
    assert issue.message == 'row 2, column "qty": the row has only 3 columns'


def test_rows_of_one_order_must_be_consecutive() -> None:
    [issue] = rejected(csv_run("A1;01.03.2025;X;1\nA2;01.03.2025;X;1\nA1;01.03.2025;Y;1\n"))
    assert issue.code == "TABULAR_NOT_CONSECUTIVE"
    assert where(issue) == ("row", 4, "order")
    assert 'order "A1" started on row 2' in issue.message


def test_order_values_that_differ_between_rows_of_one_order() -> None:
    [issue] = rejected(csv_run("A1;01.03.2025;X;1\nA1;02.03.2025;Y;1\n"))
    assert issue.code == "TABULAR_INCONSISTENT"
    assert (
        issue.message
        == 'row 3, column "date": "02.03.2025" differs from "01.03.2025" on row 2 of the same order'
    )


def test_the_same_value_written_differently_is_consistent() -> None:
    translation = csv_run("A1;01.03.2025;X;1\nA1;1.3.2025;Y;1\nA1;;Z;1\n")
    assert translation.errors == [] and len(translation.orders[0].lines) == 3


def test_a_repeated_header_row_can_be_refused() -> None:
    mapping = CSV_BASE.replace('delimiter = ";"', 'delimiter = ";"\nrepeated_header = "error"')
    [issue] = rejected(run(mapping, "order;date;item;qty\nA1;01.03.2025;X;1\norder;date;item;qty\n"))
    assert (issue.code, issue.position) == ("TABULAR_REPEATED_HEADER", 3)


def test_a_value_missing_from_a_strict_value_map() -> None:
    data = (FIXTURES / "mueller_orders.csv").read_bytes().replace(b";KAR;", b";BOX;")
    [issue] = rejected(run(fixture_mapping("mueller"), data))
    assert (issue.code, issue.position, issue.element) == ("TABULAR_VALUE", 4, "ME")
    assert '"BOX" is not one of the mapped values' in issue.message


def test_business_checks_are_located_at_the_order() -> None:
    [issue] = rejected(csv_run("A1;01.03.2025;X;1\nA2;01.03.2025;X;0\n"))
    assert (issue.code, issue.position) == ("LINE_QUANTITY", 3)


# -- fixed width, records and trailers ---------------------------------------------------------------

NORDLICHT = (FIXTURES / "nordlicht_orders.txt").read_bytes()
TRAILER = b"T00000200000300000006"


@pytest.mark.parametrize(
    ("trailer", "element", "says"),
    [
        (b"T00000300000300000006", "orders", 'counts 3 "H" header records, the file has 2'),
        (b"T00000200000400000006", "lines", 'counts 4 "L" line records, the file has 3'),
        (b"T00000200000300000005", "records", "counts 5 records, the file has 6"),
        (b"T0000020000xx00000006", "lines", 'the lines count "0000xx" is not a number'),
    ],
)
def test_trailer_counts_are_checked(trailer: bytes, element: str, says: str) -> None:
    [issue] = rejected(run(fixture_mapping("nordlicht"), NORDLICHT.replace(TRAILER, trailer)))
    assert issue.code == "TABULAR_TRAILER_COUNT"
    assert where(issue) == ("T", 6, element)
    assert says in issue.message


def test_a_cut_off_file_has_no_trailer() -> None:
    cut = NORDLICHT[: NORDLICHT.index(b"\r\nT0")]
    errors = rejected(run(fixture_mapping("nordlicht"), cut))
    assert errors[0].code == "TABULAR_TRAILER_MISSING" and errors[0].segment == "T"


def test_records_out_of_place() -> None:
    lines = NORDLICHT.split(b"\r\n")
    data = b"\r\n".join([lines[1], lines[0], b"X-unknown", *lines[1:5], b"T000002000004000000009", b"H-late"])
    errors = rejected(run(fixture_mapping("nordlicht"), data))
    assert [(e.code, e.segment, e.position) for e in errors if e.code == "TABULAR_RECORD"] == [
        ("TABULAR_RECORD", "L", 1),
        ("TABULAR_RECORD", "X", 3),
        ("TABULAR_RECORD", "H", 9),
    ]
    assert 'line record "L" comes before any header record "H"' in errors[1].message
    assert 'unknown type "X"' in errors[2].message and "after the trailer" in errors[3].message


def test_fixed_width_values_name_their_positions() -> None:
    data = NORDLICHT.replace(b"000012000PCE", b"00001x000PCE").replace(b"20250305", b"20250230")
    errors = rejected(run(fixture_mapping("nordlicht"), data))
    assert [(e.position, e.segment, e.element) for e in errors] == [(1, "H", "ORDER-DATE"), (2, "L", "QTY")]
    assert (
        errors[0].message
        == 'line 1 (H record), positions 12-19 "ORDER-DATE": "20250230" is not a date (expected YYYYMMDD)'
    )
    assert errors[1].message.startswith(
        'line 2 (L record), positions 31-39 "QTY": "00001x000" is not a number'
    )


def test_a_short_fixed_width_line_reads_blanks() -> None:
    data = NORDLICHT.replace(b"000001000PCE000004999Schubkarre verzinkt 100 l     ", b"")
    [issue] = rejected(run(fixture_mapping("nordlicht"), data))
    assert (issue.code, issue.position, issue.element) == ("TABULAR_REQUIRED", 5, "QTY")


def test_implied_decimals_refuse_an_explicit_separator() -> None:
    data = NORDLICHT.replace(b"000000399", b"0000003.9")
    [issue] = rejected(run(fixture_mapping("nordlicht"), data))
    assert "implied decimals" in issue.message and issue.element == "PRICE"
