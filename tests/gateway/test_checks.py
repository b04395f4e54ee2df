"""Business checks shared by every format: what stops an order and what is only worth a warning."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import ean

from gateway.core.canonical import Identifier, Order, OrderLine, OrderSource, Party
from gateway.core.checks import check_order, gtin_check_digit, is_valid_gln, is_valid_gtin


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("4006381333931", True),  # GTIN-13
        ("4006381333932", False),  # wrong check digit
        ("012345678905", True),  # GTIN-12 / UPC-A
        ("96385074", True),  # GTIN-8
        ("10012345678902", True),  # GTIN-14
        ("400638133393", False),  # 12 digits that are not a valid UPC
        ("40063813339311", False),
        ("ABCDEFGHIJKLM", False),
        ("", False),
    ],
)
def test_gtin_check_digits(value: str, valid: bool) -> None:
    assert is_valid_gtin(value) is valid


def test_gln_must_be_13_digits_with_check_digit() -> None:
    assert is_valid_gln("5412345000013")
    assert not is_valid_gln("5412345000014")
    assert not is_valid_gln("012345678905")


def _order(**changes: object) -> Order:
    base = Order(
        order_number="PO-1",
        currency="EUR",
        order_date="2024-01-01",  # type: ignore[arg-type]
        buyer=Party(identifiers=[Identifier(scheme="GLN", value="5412345000013")]),
        lines=[OrderLine(line_number="1", gtin="4006381333931", quantity=Decimal("2"))],
        source=OrderSource(format="edifact", message_type="ORDERS"),
    )
    return base.model_copy(update=changes)


def test_a_good_order_has_no_issues() -> None:
    assert check_order(_order()) == []


def test_errors_and_warnings() -> None:
    order = _order(
        currency=None,
        order_date=None,
        buyer=Party(identifiers=[Identifier(scheme="GLN", value="5412345000014")]),
        lines=[
            OrderLine(line_number="1", gtin="4006381333932", quantity=Decimal("2")),
            OrderLine(line_number="2", quantity=Decimal("0")),
        ],
    )
    issues = {(i.code, i.severity) for i in check_order(order)}
    assert issues == {
        ("CURRENCY_MISSING", "warning"),
        ("ORDER_DATE_MISSING", "warning"),
        ("GLN_CHECK_DIGIT", "warning"),
        ("GTIN_CHECK_DIGIT", "error"),
        ("LINE_QUANTITY", "error"),
    }


def test_an_order_without_lines_is_an_error() -> None:
    assert [i.code for i in check_order(_order(lines=[]))] == ["ORDER_NO_LINES"]


@given(st.text(alphabet="0123456789", min_size=7, max_size=13))
def test_check_digit_agrees_with_python_stdnum(body: str) -> None:
    assert gtin_check_digit(body) == ean.calc_check_digit(body)
    assert is_valid_gtin(body + gtin_check_digit(body)) is ((len(body) + 1) in (8, 12, 13, 14))
