"""The marketplace format as the registry and `translate()` see it: sniffing, detection, one order per
marketplace through `translate()`, and the reason given for JSON no format claims."""

from __future__ import annotations

import io
import json

import pytest

from mappings.marketplace import FORMAT
from mappings.registry import detect, formats
from mappings.sniff import describe_unrecognised
from mappings.translate import translate
from tests.mappings.marketplace.support import FIXTURES, read, woocommerce_order


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"order": {}}', True),
        (b"\xef\xbb\xbf \r\n\t[{", True),
        (b"ISA*00*", False),
        (b"UNA:+.? '", False),
        (b"<?xml version='1.0'?>", False),
        (b"", False),
        (b'"text"', False),
    ],
)
def test_sniff_claims_json_objects_and_lists(head: bytes, expected: bool) -> None:
    assert FORMAT.sniff(head) is expected


def test_registered_and_detected_for_json() -> None:
    assert FORMAT in formats()
    assert detect(b'[{"id": 1}]') is FORMAT
    assert detect(b"ISA*00*          *00*") is not FORMAT


def test_reads_a_stream_as_well_as_bytes() -> None:
    data = (FIXTURES / "woocommerce_order_v3.json").read_bytes()
    from_stream = [e for e in FORMAT.read(io.BytesIO(data))]
    assert len(from_stream) == 2 and from_stream == list(FORMAT.read(data))


def test_translate_shopify_webhook_body() -> None:
    body = {
        "id": 42,
        "name": "#42",
        "created_at": "2024-02-01T08:00:00Z",
        "currency": "CAD",
        "financial_status": "paid",
        "line_items": [{"id": 1, "sku": "A-1", "quantity": 2, "price": "4.50"}],
    }
    translation = translate(json.dumps(body).encode())
    assert translation.status == "accepted", translation.errors
    [order] = translation.orders
    assert (order.order_number, order.source.format, order.lines[0].seller_item_id) == (
        "#42",
        "shopify",
        "A-1",
    )


def test_translate_woocommerce_order() -> None:
    translation = translate(json.dumps(woocommerce_order()).encode())
    assert translation.status == "accepted", translation.errors
    assert [o.source.format for o in translation.orders] == ["woocommerce"]


def test_translate_amazon_archived_document() -> None:
    translation = translate((FIXTURES / "amazon_order_two_items.json").read_bytes())
    assert translation.status == "accepted", translation.errors
    [order] = translation.orders
    assert (order.order_number, order.source.format, len(order.lines)) == ("302-4927301-8265012", "amazon", 2)
    assert translation.interchanges[0].header.sender_id == "A1PA6795UKMFR9"


def test_every_order_is_its_own_interchange() -> None:
    first, second = woocommerce_order(), woocommerce_order()
    second["id"] = 728
    translation = translate(json.dumps([first, second]).encode())
    assert [
        (i.header.control_ref, [m.message_ref for m in i.messages]) for i in translation.interchanges
    ] == [
        ("727", ["727"]),
        ("728", ["728"]),
    ]
    assert read([first])[0][0].format == "marketplace"


def test_json_no_format_claims_is_described_as_no_marketplace_shape() -> None:
    issue = describe_unrecognised(b'{"a": 1}')
    assert issue.code == "UNSUPPORTED_FORMAT"
    assert "none of the marketplace order shapes" in issue.message
