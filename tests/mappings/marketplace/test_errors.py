"""Bad marketplace JSON is refused with a code and the JSON path of the problem, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.errors import GatewayError, ParseError
from mappings.marketplace import FORMAT
from mappings.marketplace.document import load
from mappings.translate import translate
from tests.mappings.marketplace.support import read, woocommerce_order


def _shopify(lines: int = 3) -> dict[str, Any]:
    return {
        "id": 1001,
        "name": "#1001",
        "created_at": "2024-01-05T10:00:00-05:00",
        "currency": "USD",
        "total_price": "30.00",
        "line_items": [
            {"id": 10 + i, "sku": f"SKU-{i}", "quantity": 1, "price": "10.00"} for i in range(lines)
        ],
    }


def _only_error(document: Any) -> tuple[str, str | None]:
    translation = translate(json.dumps(document).encode())
    assert translation.status == "rejected"
    [error] = translation.errors
    return error.code, error.element


def test_malformed_json_names_line_and_column() -> None:
    data = b'{\n  "order": {\n    "id": 1,\n    "name": "#1"\n    "line_items": []\n  }\n}\n'
    [error] = translate(data).errors
    assert (error.code, error.position) == ("JSON_SYNTAX", 5)
    assert "line 5, column 5" in error.message


def test_truncated_json_is_malformed() -> None:
    data = json.dumps({"order": _shopify()}).encode()
    [error] = translate(data[:-10]).errors
    assert error.code == "JSON_SYNTAX" and "line 1" in error.message


def test_json_that_is_not_utf8_is_refused() -> None:
    [error] = translate(b'{"name": "caf\xe9"}').errors
    assert error.code == "JSON_ENCODING" and "0xe9" in error.message


def test_nan_is_not_json() -> None:
    [error] = translate(b'{"id": NaN}').errors
    assert error.code == "JSON_SYNTAX" and "NaN" in error.message


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(ParseError) as refused:
        load(b"[" + b" " * 200 + b"]", limit=100)
    assert refused.value.code == "JSON_TOO_LARGE"


@pytest.mark.parametrize(
    ("document", "code", "element"),
    [
        ([], "JSON_NO_ORDERS", "$"),
        ({"orders": []}, "JSON_NO_ORDERS", "orders"),
        ([woocommerce_order(), 7], "JSON_NOT_OBJECT", "[1]"),
        ({"customer": {"id": 1, "email": "a@example.org"}}, "UNSUPPORTED_FORMAT", "customer"),
        ({"order": {"id": 1}}, "JSON_FIELD_MISSING", "order.line_items"),
    ],
    ids=["empty-list", "empty-orders", "scalar-in-list", "unknown-shape", "no-line-items-key"],
)
def test_document_level_refusals(document: Any, code: str, element: str) -> None:
    assert _only_error(document) == (code, element)


def test_unknown_shape_names_the_shapes_read_and_yields_nothing() -> None:
    events = FORMAT.read(json.dumps([woocommerce_order(), {"sku": "X", "qty": 1}]).encode())
    with pytest.raises(GatewayError) as refused:
        next(iter(events))  # the known first record is not yielded either
    issue = refused.value.to_issue()
    assert (issue.code, issue.position, issue.element) == ("UNSUPPORTED_FORMAT", 2, "[1]")
    for label in ("a Shopify order", "a WooCommerce order", "an Amazon SP-API order"):
        assert label in issue.message


def test_top_level_scalar_is_refused() -> None:
    with pytest.raises(ParseError) as refused:
        list(FORMAT.read(b'"an order"'))
    assert refused.value.code == "JSON_NOT_OBJECT"


@pytest.mark.parametrize(
    ("document", "element"),
    [
        ({"order": {k: v for k, v in _shopify().items() if k != "id"}}, "order.id"),
        ({k: v for k, v in woocommerce_order().items() if k != "id"}, "id"),
    ],
    ids=["shopify", "woocommerce"],
)
def test_missing_order_id(document: Any, element: str) -> None:
    _, [outcome] = read(document)
    assert outcome.order is None
    assert [(e.code, e.element) for e in outcome.errors] == [("JSON_FIELD_MISSING", element)]
    assert "order id" in outcome.errors[0].message


def test_missing_amazon_order_id() -> None:
    document = {"getOrder": {"payload": {"OrderStatus": "Unshipped"}}, "getOrderItems": {"payload": {}}}
    codes = [(e.code, e.element) for e in read(document)[1][0].errors]
    assert ("JSON_FIELD_MISSING", "getOrder.payload.AmazonOrderId") in codes
    assert ("JSON_FIELD_MISSING", "getOrderItems.payload.OrderItems") in codes


def test_empty_line_items() -> None:
    body = _shopify(0)
    _, [outcome] = read({"order": body})
    assert outcome.order is None
    assert [(e.code, e.element) for e in outcome.errors] == [("JSON_FIELD_MISSING", "order.line_items")]
    assert "empty" in outcome.errors[0].message


def test_line_without_quantity_names_its_path_and_rejects_the_order() -> None:
    body = _shopify()
    del body["line_items"][2]["quantity"]
    translation = translate(json.dumps({"order": body}).encode())
    assert translation.status == "rejected" and translation.orders == []
    [error] = translation.errors
    assert (error.code, error.element, error.position) == (
        "JSON_FIELD_MISSING",
        "order.line_items[2].quantity",
        1,
    )


@pytest.mark.parametrize(
    ("change", "code", "element"),
    [
        (lambda b: b["line_items"][0].update(quantity="two"), "JSON_FIELD_VALUE", "line_items[0].quantity"),
        (lambda b: b["line_items"][1].update(quantity=True), "JSON_FIELD_TYPE", "line_items[1].quantity"),
        (
            lambda b: b["line_items"][1].update(price={"amount": "1"}),
            "JSON_FIELD_TYPE",
            "line_items[1].price",
        ),
        (lambda b: b.update(line_items={"0": {}}), "JSON_FIELD_TYPE", "line_items"),
        (lambda b: b["line_items"].append("SKU-9"), "JSON_FIELD_TYPE", "line_items[3]"),
        (lambda b: b.update(created_at="yesterday"), "JSON_FIELD_VALUE", "created_at"),
        (lambda b: b.update(shipping_address="Main St 1"), "JSON_FIELD_TYPE", "shipping_address"),
        (lambda b: b.update(id=[1]), "JSON_FIELD_TYPE", "id"),
        (lambda b: b["line_items"][0].update(quantity=0), "LINE_QUANTITY", "$"),
    ],
    ids=[
        "qty-text",
        "qty-bool",
        "price-object",
        "lines-object",
        "line-string",
        "date",
        "address",
        "id",
        "qty-0",
    ],
)
def test_wrong_types_and_values_are_located(change: Any, code: str, element: str) -> None:
    body = _shopify()
    body["total_line_items_price"] = "30.00"  # a bare webhook body
    change(body)
    translation = translate(json.dumps(body).encode())
    assert translation.status == "rejected"
    assert (code, element) in [(e.code, e.element) for e in translation.errors], translation.errors


def test_an_order_with_errors_yields_no_orders_but_keeps_its_outcome() -> None:
    body = _shopify()
    body["line_items"][0]["quantity"] = "two"
    _, [outcome] = read({"order": body})
    assert outcome.message_ref == "1001" and outcome.errors
    assert translate(json.dumps({"order": body}).encode()).orders == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.decimals(allow_nan=False, places=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_keys = st.sampled_from(
    [
        "id",
        "name",
        "created_at",
        "currency",
        "line_items",
        "shipping_lines",
        "tax_lines",
        "discount_codes",
        "customer",
        "billing_address",
        "shipping_address",
        "total_price",
        "note_attributes",
        "test",
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=6), st.sampled_from(["order", "orders", None]))
def test_any_values_in_order_fields_give_issues_never_a_crash(
    fields: dict[str, Any], wrap: str | None
) -> None:
    body = {**_shopify(), **fields}
    document: Any = body if wrap is None else {wrap: body if wrap == "order" else [body]}
    translation = translate(json.dumps(document, default=str).encode())
    assert translation.status in ("accepted", "rejected")
    for issue in translation.errors:
        assert issue.code and issue.message
