"""Every UBL file of the shared corpus against the facts its MANIFEST row records.

The expectations are read here from the manifest text (`Key=value; …`, parties as `Name [endpoint
scheme:value]`, lines as `[n: item xqty unit @price; …]`), not derived from the code under test. Orders,
changes and cancellations are checked field by field on the format's own events, then for their verdict
through `translate()`; the other UBL documents must be refused as NOT_AN_ORDER, naming the document.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from stdnum import ean

from gateway.core.canonical import Order
from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.translate import translate
from mappings.ubl import FORMAT
from tests.corpus import CorpusEntry, entries, require_corpus

pytestmark = pytest.mark.corpus

UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:"
ORDER_DOCUMENTS = {"Order": "original", "OrderChange": "change", "OrderCancellation": "cancel"}
ICD = {"0088": "GLN", "0060": "DUNS"}  # ISO 6523 ICD codes with a canonical scheme name

CHECKED = {
    "root", "UBLVersionID", "CustomizationID", "ID", "SalesOrderID", "IssueDate", "DocumentCurrencyCode", "Note",
    "OrderReference", "BuyerCustomerParty", "SellerSupplierParty", "PayableAmount", "LineExtensionAmount",
    "OrderLines",
}  # fmt: skip
NO_CANONICAL_HOME = {"ProfileID", "OrderTypeCode", "OriginatorCustomerParty"}
"""Manifest keys of orders that the canonical order has no field for."""

VERDICTS = {
    "xml/ubl20_order_oasis_example_oca.xml": set(),
    "xml/ubl21_orderchange_peppol_bis3_example.xml": set(),
    # Line 1 carries GTIN 7560000012345, whose check digit is wrong (see the test below): the shared
    # business check refuses a GTIN that would pick the wrong article, whatever the format.
    "xml/ubl21_order_peppol_bis3_example.xml": {"GTIN_CHECK_DIGIT"},
    # A cancellation carries no lines; like an EDIFACT ORDERS with BGM 1225=1 and no LIN, the shared
    # check refuses an order without lines.
    "xml/ubl21_ordercancellation_peppol_bis3_example.xml": {"ORDER_NO_LINES"},
}


def is_ubl(entry: CorpusEntry) -> bool:
    return entry.file.startswith("xml/") and entry.message_type.startswith("UBL ")


UBL = entries(is_ubl)


def document_of(entry: CorpusEntry) -> str:
    return entry.message_type.split()[1]


def facts(entry: CorpusEntry) -> dict[str, str]:
    """`Key=value` pairs split on "; " outside [brackets]; the first occurrence of a key wins."""
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


def party_fact(value: str) -> tuple[str, str | None, str | None]:
    """ "Medical [endpoint 0192:123456785]" → ("Medical", "0192", "123456785")."""
    found = re.fullmatch(r"(.*?)(?: \[endpoint (\w+):(\S+)\])?", value)
    assert found is not None
    return found.group(1), found.group(2), found.group(3)


def parse_lines(value: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """ "2 [1: 121212 x120 EA @50.000; …]" → [(line, item, quantity, unit, price), …]."""
    count, _, listed = value.partition(" ")
    lines = []
    for item in listed.strip("[]").split("; "):
        found = re.fullmatch(r"(\S+): (.+?) x(\S*)(?: (\S+))? @(\S*)", item)
        assert found is not None, item
        number, name, quantity, unit, price = found.groups()
        lines.append((number, name, quantity or None, unit, price or None))
    assert len(lines) == int(count)
    return lines


def amount_fact(value: str) -> tuple[str | None, Decimal]:
    """ "NOK 6363" → ("NOK", 6363); "100.00" → (None, 100.00)."""
    currency, _, amount = value.rpartition(" ")
    return currency or None, Decimal(amount)


def read(entry: CorpusEntry) -> tuple[InterchangeHeader, MessageOutcome]:
    header, messages = collect(FORMAT.read(entry.path.read_bytes()))
    assert header is not None
    [message] = messages
    return header, message


def test_the_corpus_has_ubl_orders_and_other_documents() -> None:
    require_corpus()
    documents = {document_of(e) for e in UBL}
    assert {"Order", "OrderChange", "OrderCancellation"} <= documents
    assert documents - set(ORDER_DOCUMENTS), "no UBL document that is not an order"
    assert set(VERDICTS) == {e.file for e in UBL if document_of(e) in ORDER_DOCUMENTS}


@pytest.mark.parametrize("entry", UBL, ids=lambda e: e.file)
def test_root_namespace_and_sniffing(entry: CorpusEntry) -> None:
    require_corpus()
    data = entry.path.read_bytes()
    root, namespace = re.match(r"root=(\w+) ns=([^;\s]+)", entry.expected).groups()  # type: ignore[union-attr]
    assert namespace == f"{UBL_NS}{root}-2"
    assert FORMAT.sniff(data[:4096])
    assert translate(data).format == "ubl"
    _, message = read(entry)
    assert message.message_type == root == document_of(entry)


@pytest.mark.parametrize("entry", [e for e in UBL if document_of(e) in ORDER_DOCUMENTS], ids=lambda e: e.file)
def test_order_facts(entry: CorpusEntry) -> None:
    require_corpus()
    expected = facts(entry)
    header, message = read(entry)
    order = message.order
    assert order is not None, message.errors
    document = document_of(entry)
    assert order.purpose == ORDER_DOCUMENTS[document]
    assert order.source.format == "ubl" and order.source.message_type == document
    if document == "Order":
        assert order.order_number == expected["ID"]
    else:  # a change or cancellation is about the order it references; its own id is the message's
        assert order.order_number == expected["OrderReference"]
        assert message.message_ref == expected["ID"]
        assert (f"UBL:{document}", expected["ID"]) in {(r.qualifier, r.value) for r in order.references}
    assert order.order_date == date.fromisoformat(expected["IssueDate"])
    assert order.source.standard_version == expected.get("UBLVersionID", expected["CustomizationID"])
    if "SalesOrderID" in expected:
        assert ("UBL:SalesOrderID", expected["SalesOrderID"]) in {
            (r.qualifier, r.value) for r in order.references
        }
    if "Note" in expected:
        assert expected["Note"] in order.notes
    check_money(order, expected)
    check_parties(order, header, expected)
    if "OrderLines" in expected:
        check_lines(order, expected["OrderLines"])
    else:
        assert order.lines == []
    assert set(expected) <= CHECKED | NO_CANONICAL_HOME, "a manifest fact no test reads"


def check_money(order: Order, expected: dict[str, str]) -> None:
    if "DocumentCurrencyCode" in expected:
        assert order.currency == expected["DocumentCurrencyCode"]
    if "PayableAmount" in expected:
        currency, amount = amount_fact(expected["PayableAmount"])
        assert order.totals is not None and order.totals.total == amount
        assert order.currency == currency
    if "LineExtensionAmount" in expected:
        assert order.totals is not None
        assert order.totals.line_total == amount_fact(expected["LineExtensionAmount"])[1]


def check_parties(order: Order, header: InterchangeHeader, expected: dict[str, str]) -> None:
    for key, party, side in (
        ("BuyerCustomerParty", order.buyer, "sender"),
        ("SellerSupplierParty", order.seller, "receiver"),
    ):
        name, scheme, value = party_fact(expected[key])
        assert party is not None and party.name == name
        if value is None:
            continue
        assert (getattr(header, f"{side}_id"), getattr(header, f"{side}_qualifier")) == (value, scheme)
        assert (getattr(order.source, f"{side}_id"), getattr(order.source, f"{side}_qualifier")) == (
            value,
            scheme,
        )
        assert scheme is not None
        assert party.identifier(ICD.get(scheme, f"UBL:{scheme}")) == value


def check_lines(order: Order, listed: str) -> None:
    lines = parse_lines(listed)
    assert len(order.lines) == len(lines)
    for line, (number, item, quantity, unit, price) in zip(order.lines, lines, strict=True):
        assert line.line_number == number
        assert item in (line.seller_item_id, line.buyer_item_id, line.gtin, line.description)
        assert line.quantity == Decimal(quantity or "0")
        assert line.unit == unit
        assert line.unit_price == (Decimal(price) if price else None)


@pytest.mark.parametrize("file", sorted(VERDICTS))
def test_order_verdicts(file: str) -> None:
    require_corpus()
    [entry] = entries(lambda e: e.file == file)
    translation = translate(entry.path.read_bytes())
    codes = {e.code for e in translation.errors}
    assert codes == VERDICTS[file], [e.describe() for e in translation.errors]
    assert translation.status == ("accepted" if not codes else "rejected")
    assert len(translation.orders) == (0 if codes else 1)


def test_the_peppol_example_gtin_really_has_a_wrong_check_digit() -> None:
    require_corpus()
    [entry] = entries(lambda e: e.file == "xml/ubl21_order_peppol_bis3_example.xml")
    _, message = read(entry)
    assert message.order is not None
    gtin = message.order.lines[0].gtin
    assert gtin == "7560000012345" and not ean.is_valid(gtin)
    [error] = message.errors
    assert error.code == "GTIN_CHECK_DIGIT" and gtin in error.message


@pytest.mark.parametrize(
    "entry", [e for e in UBL if document_of(e) not in ORDER_DOCUMENTS], ids=lambda e: e.file
)
def test_other_documents_are_refused_by_name(entry: CorpusEntry) -> None:
    require_corpus()
    expected = facts(entry)
    document = document_of(entry)
    translation = translate(entry.path.read_bytes())
    assert translation.status == "rejected" and translation.orders == []
    [error] = translation.errors
    assert error.code == "NOT_AN_ORDER"
    assert f"UBL {document}" in error.message and "not an order" in error.message
    assert error.segment == f"/{document}" and error.position is not None
    header, message = read(entry)
    assert not message.supported and message.order is None
    assert message.message_ref == header.control_ref == expected["ID"]
    assert header.prepared_at is not None and header.prepared_at.startswith(expected["IssueDate"])
    # the party that sends this kind of document is the interchange's sender
    sender_role = {"OrderResponse": "SellerSupplierParty", "DespatchAdvice": "DespatchSupplierParty"}[
        document
    ]
    _, scheme, value = party_fact(expected[sender_role])
    assert (header.sender_id, header.sender_qualifier) == (value, scheme)
