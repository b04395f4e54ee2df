"""Numbers and dates as partners write them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mappings.tabular.values import ValueProblem, check_date_pattern, human_pattern, parse_date, parse_decimal


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("12", {}, "12"),
        ("12.50", {}, "12.50"),
        (".5", {}, "0.5"),
        ("-3", {}, "-3"),
        ("+3", {}, "3"),
        ("12-", {}, "-12"),
        ("12,5", {"decimal": ","}, "12.5"),
        ("1.234,56", {"decimal": ",", "thousands": "."}, "1234.56"),
        ("1,234,567.8", {"thousands": ","}, "1234567.8"),
        ("1 234", {"thousands": " "}, "1234"),
        ("1'234.5", {"thousands": "'"}, "1234.5"),
        ("1234,5", {"decimal": ",", "thousands": "."}, "1234.5"),
        ("000012550", {"implied": 2}, "125.50"),
        ("000001000", {"implied": 3}, "1.000"),
        ("0000125-", {"implied": 2}, "-1.25"),
    ],
)
def test_numbers(text: str, options: dict, expected: str) -> None:  # type: ignore[type-arg]
    value = parse_decimal(text, **options)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize(
    ("text", "options", "says"),
    [
        ("12,5x", {"decimal": ","}, 'is not a number (decimal separator ",")'),
        ("12.5", {"decimal": ",", "thousands": "."}, '"." must group three digits'),
        ("1.23.456", {"thousands": ","}, "is not a number"),
        ("12,34", {"thousands": ","}, '"," must group three digits'),
        ("1e5", {}, "is not a number"),
        ("NaN", {}, "is not a number"),
        ("١٢", {}, "is not a number"),  # Arabic-Indic digits are digits to Python, not to a partner's spec
        ("5.", {}, "is not a number"),
        ("-", {}, "is not a number"),
        ("12.5", {"implied": 2}, "has a decimal separator, but the field declares 2 implied decimals"),
        ("0001x", {"implied": 2}, "(digits, 2 implied decimals)"),
    ],
)
def test_not_numbers(text: str, options: dict, says: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueProblem) as raised:
        parse_decimal(text, **options)
    assert says in str(raised.value) and f'"{text}"' in str(raised.value)


def test_dates_try_each_pattern() -> None:
    patterns = ["%d.%m.%Y", "%Y%m%d"]
    assert parse_date("03.03.2025", patterns) == date(2025, 3, 3)
    assert parse_date("20250303", patterns) == date(2025, 3, 3)
    with pytest.raises(ValueProblem, match=r"expected DD\.MM\.YYYY or YYYYMMDD"):
        parse_date("2025-03-03", patterns)
    with pytest.raises(ValueProblem, match="is not a date"):
        parse_date("29.02.2025", patterns)


def test_human_patterns_and_pattern_checks() -> None:
    assert human_pattern("%m/%d/%y") == "MM/DD/YY"
    check_date_pattern("%d.%m.%Y")
    for bad in ("%d.%m", "%H:%M", "%d.%m.%Q"):
        with pytest.raises(ValueError):
            check_date_pattern(bad)
