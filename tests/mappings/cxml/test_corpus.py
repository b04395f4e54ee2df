"""Every cXML file of the shared corpus against the facts its MANIFEST row records, read here from the
manifest text (`payloadID=…; doc=…; orderID=…; total=USD 91.71; shipto=Name, City Zip CC; lines=n [#1
part xqty @price UNIT; …]`). OrderRequests are checked field by field and must be accepted; every other
payload must be refused as NOT_AN_ORDER, naming it. No output may carry the Sender's SharedSecret."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from gateway.cli.translate_cmd import translation_payload
from mappings.base import collect
from mappings.cxml import FORMAT
from mappings.translate import translate
from tests.corpus import CorpusEntry, entries, require_corpus

pytestmark = pytest.mark.corpus

PURPOSE = {"new": "original", "update": "change", "delete": "cancel"}  # OrderRequestHeader/@type


def is_cxml(entry: CorpusEntry) -> bool:
    return entry.file.startswith("xml/") and entry.message_type.startswith("cXML ")


CXML = entries(is_cxml)
ORDERS = [e for e in CXML if e.message_type == "cXML OrderRequest"]
OTHERS = [e for e in CXML if e.message_type != "cXML OrderRequest"]


def facts(entry: CorpusEntry) -> dict[str, str]:
    found: dict[str, str] = {}
    depth, current = 0, ""
    for char in entry.expected + ";":
        depth += (char == "[") - (char == "]")
        if char == ";" and depth == 0:
            key, _, value = current.strip().partition("=")
            found.setdefault(key, value)
            current = ""
        else:
            current += char
    return found


def groups(pattern: str, text: str) -> tuple[str, ...]:
    found = re.fullmatch(pattern, text)
    assert found is not None, (pattern, text)
    return found.groups()


def secrets_in(data: bytes) -> list[str]:
    return [s.decode().strip() for s in re.findall(rb"<SharedSecret>(.*?)</SharedSecret>", data, re.DOTALL)]


def test_the_corpus_has_cxml_orders_and_other_payloads() -> None:
    require_corpus()
    assert len(ORDERS) >= 2 and len(OTHERS) >= 2
    assert any(secrets_in(e.path.read_bytes()) for e in CXML), "no sample with a SharedSecret"


@pytest.mark.parametrize("entry", ORDERS, ids=lambda e: e.file)
def test_order_request_facts(entry: CorpusEntry) -> None:
    require_corpus()
    expected = facts(entry)
    data = entry.path.read_bytes()
    assert FORMAT.sniff(data[:4096])
    header, [message] = collect(FORMAT.read(data))
    assert header is not None
    assert header.control_ref == message.message_ref == expected["payloadID"]
    assert message.message_type == expected["doc"] == "OrderRequest"
    assert message.version == entry.version
    order = message.order
    assert order is not None and message.errors == []
    assert order.source.interchange_control_ref == expected["payloadID"]
    assert order.order_number == expected["orderID"]
    assert order.order_date == date.fromisoformat(expected["orderDate"][:10])
    assert order.purpose == PURPOSE[expected["type"]]
    currency, _, total = expected["total"].partition(" ")
    assert order.currency == currency
    assert order.totals is not None and order.totals.total == Decimal(total)
    name, city, postal, country = groups(r"(.+?), (.+) (\S+) ([A-Z]{2})", expected["shipto"])
    assert order.ship_to is not None and order.ship_to.name == name
    assert order.ship_to.address is not None
    assert (order.ship_to.address.city, order.ship_to.address.postal_code, order.ship_to.address.country) == (
        city,
        postal,
        country,
    )
    count, _, listed = expected["lines"].partition(" ")
    lines = [groups(r"#(\S+) (\S+) x(\S+) @(\S+) (\S+)", item) for item in listed.strip("[]").split("; ")]
    assert len(order.lines) == len(lines) == int(count)
    for line, (number, part, quantity, price, unit) in zip(order.lines, lines, strict=True):
        assert (line.line_number, line.seller_item_id) == (number, part)
        assert (line.quantity, line.unit_price, line.unit) == (Decimal(quantity), Decimal(price), unit)
    translation = translate(data)
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    assert translation.format == "cxml" and [o.order_number for o in translation.orders] == [
        order.order_number
    ]


@pytest.mark.parametrize("entry", OTHERS, ids=lambda e: e.file)
def test_other_payloads_are_refused_by_name(entry: CorpusEntry) -> None:
    require_corpus()
    expected = facts(entry)
    data = entry.path.read_bytes()
    translation = translate(data)
    assert translation.format == "cxml"
    assert translation.status == "rejected" and translation.orders == []
    [error] = translation.errors
    assert error.code == "NOT_AN_ORDER"
    assert f"cXML {expected['doc']}" in error.message and "not an order" in error.message
    assert error.segment is not None and error.segment.endswith(f"/{expected['doc']}")
    assert error.position is not None
    header, [message] = collect(FORMAT.read(data))
    assert header is not None and header.control_ref == expected["payloadID"]
    assert not message.supported and message.message_type == expected["doc"]


@pytest.mark.parametrize("entry", CXML, ids=lambda e: e.file)
def test_no_output_carries_the_shared_secret(entry: CorpusEntry, caplog: pytest.LogCaptureFixture) -> None:
    require_corpus()
    data = entry.path.read_bytes()
    with caplog.at_level("DEBUG"):
        events = list(FORMAT.read(data))
        translation = translate(data)
    outputs = [
        repr(events),
        json.dumps(translation_payload(translation), default=str),
        repr(translation),
        caplog.text,
    ]
    outputs += [issue.describe() for issue in translation.errors + translation.warnings]
    for secret in secrets_in(data):
        assert secret and all(secret not in text for text in outputs)
