"""cXML OrderRequest → canonical order, on small documents written for these tests."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal

import pytest

from gateway.cli.translate_cmd import translation_payload
from gateway.core.canonical import AllowanceCharge, Identifier, Reference, Tax
from gateway.core.errors import ParseError
from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.cxml import FORMAT
from mappings.registry import detect
from mappings.translate import translate

SECRET = "Zq8-never-show-this"
DOCTYPE = '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.060/cXML.dtd">'

HEADER = f"""
  <Header>
    <From>
      <Credential domain="DUNS"><Identity>123456789</Identity></Credential>
      <Credential domain="NetworkID"><Identity>AN0100</Identity></Credential>
    </From>
    <To><Credential domain="NetworkID"><Identity>AN0200</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>AN0100</Identity>
      <SharedSecret>{SECRET}</SharedSecret></Credential><UserAgent>Buyer 1.0</UserAgent></Sender>
  </Header>"""

ORDER_HEADER = """
    <OrderRequestHeader orderID="PO-77" orderDate="2024-03-31T23:30:00-08:00" type="new"
        requestedDeliveryDate="2024-04-15" orderVersion="2">
      <Total><Money currency="USD">118.40</Money></Total>
      <ShipTo><Address isoCountryCode="US" addressID="DC-9" addressIDDomain="buyerLocationID">
        <Name xml:lang="en">Distribution Center 9</Name>
        <PostalAddress><DeliverTo>Dock 4</DeliverTo><DeliverTo>Attn: Sam</DeliverTo>
          <Street>1 Harbor Way</Street><Street>Building B</Street><City>Oakland</City><State>CA</State>
          <PostalCode>94607</PostalCode><Country isoCountryCode="US">United States</Country></PostalAddress>
        <Email>dock@buyer.example</Email>
        <Phone><TelephoneNumber><CountryCode isoCountryCode="US">1</CountryCode>
          <AreaOrCityCode>510</AreaOrCityCode><Number>5550100</Number><Extension>12</Extension>
        </TelephoneNumber></Phone>
      </Address></ShipTo>
      <BillTo><Address isoCountryCode="US"><Name xml:lang="en">Buyer Inc. Accounts Payable</Name>
        <PostalAddress><Street>PO Box 1</Street><City>Austin</City><Country isoCountryCode="US">US</Country>
        </PostalAddress></Address></BillTo>
      <Shipping><Money currency="USD">7.50</Money><Description xml:lang="en">Ground</Description></Shipping>
      <Tax><Money currency="USD">8.90</Money><Description xml:lang="en">tax</Description>
        <TaxDetail category="sales" percentageRate="8.25">
          <TaxableAmount><Money currency="USD">107.90</Money></TaxableAmount>
          <TaxAmount><Money currency="USD">8.90</Money></TaxAmount></TaxDetail></Tax>
      <Contact role="purchasingAgent"><Name xml:lang="en">Pat Buyer</Name><Email>pat@buyer.example</Email></Contact>
      <Comments xml:lang="en">Deliver before noon.<Attachment><URL>cid:1@buyer</URL></Attachment></Comments>
      <IdReference identifier="REQ-5" domain="requisitionID"/>
      <Extrinsic name="CostCenter">CC-42</Extrinsic>
      <Extrinsic name="Empty"></Extrinsic>
    </OrderRequestHeader>"""

ITEMS = """
    <ItemOut quantity="10" lineNumber="1" requestedDeliveryDate="2024-04-10T00:00:00Z">
      <ItemID><SupplierPartID>SP-1</SupplierPartID><SupplierPartAuxiliaryID>AUX-1</SupplierPartAuxiliaryID>
        <BuyerPartID>BP-1</BuyerPartID></ItemID>
      <ItemDetail><UnitPrice><Money currency="USD">9.99</Money></UnitPrice>
        <Description xml:lang="en">Copy paper A4<ShortName>Paper</ShortName></Description>
        <UnitOfMeasure>BX</UnitOfMeasure>
        <PriceBasisQuantity quantity="2" conversionFactor="1"><UnitOfMeasure>BX</UnitOfMeasure></PriceBasisQuantity>
        <ManufacturerPartID>MP-1</ManufacturerPartID>
        <ItemDetailIndustry><ItemDetailRetail><EANID>4006381333931</EANID></ItemDetailRetail></ItemDetailIndustry>
      </ItemDetail>
      <Tax><Money currency="USD">1.00</Money><Description xml:lang="en">line tax</Description></Tax>
      <Comments xml:lang="en">Recycled only</Comments>
    </ItemOut>
    <ItemOut quantity="1" lineNumber="2">
      <ItemID><SupplierPartID>SP-2</SupplierPartID></ItemID>
      <ItemDetail><UnitPrice><Money currency="USD">11.00</Money></UnitPrice>
        <Description xml:lang="en"><ShortName>Stapler</ShortName></Description><UnitOfMeasure>EA</UnitOfMeasure>
      </ItemDetail>
    </ItemOut>"""


def document(order_header: str = ORDER_HEADER, items: str = ITEMS, mode: str = "production") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{DOCTYPE}\n'
        f'<cXML payloadID="20240331.1@buyer.example" timestamp="2024-03-31T23:30:05-08:00" xml:lang="en">'
        f'{HEADER}\n  <Request deploymentMode="{mode}"><OrderRequest>{order_header}{items}\n'
        "  </OrderRequest></Request>\n</cXML>\n"
    ).encode()


def read(data: bytes) -> tuple[InterchangeHeader, MessageOutcome]:
    header, messages = collect(FORMAT.read(data))
    assert header is not None
    [message] = messages
    return header, message


def test_sniffing() -> None:
    assert FORMAT.sniff(document()[:4096]) and detect(document()[:4096]) is FORMAT
    assert FORMAT.sniff(b"\xef\xbb\xbf<cXML payloadID='1'>")
    long_prolog = b"<?xml version='1.0'?>\n" + DOCTYPE.encode() + b"\n<!--" + b"x" * 5000 + b"-->\n<cXML>"
    assert FORMAT.sniff(long_prolog[:4096])  # root beyond the head: the DOCTYPE says cXML
    assert not FORMAT.sniff(b"<cXML xmlns='urn:example'>")
    assert not FORMAT.sniff(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2">')


def test_envelope() -> None:
    header, message = read(document(mode="test"))
    assert (header.sender_id, header.sender_qualifier) == ("123456789", "DUNS")
    assert (header.receiver_id, header.receiver_qualifier) == ("AN0200", "NetworkID")
    assert header.control_ref == message.message_ref == "20240331.1@buyer.example"
    assert header.prepared_at == "2024-03-31T23:30:05-08:00"
    assert header.test and message.order is not None and message.order.source.test
    assert (message.message_type, message.version) == ("OrderRequest", "1.2.060")
    assert not read(document())[0].test


def test_order_header() -> None:
    _, message = read(document())
    assert message.errors == [] and message.warnings == []
    order = message.order
    assert order is not None
    assert (order.order_number, order.purpose, order.currency) == ("PO-77", "original", "USD")
    assert order.order_date == date(2024, 3, 31)  # the date as written, not converted to UTC
    assert order.requested_delivery_date == date(2024, 4, 15)
    assert order.buyer is not None
    assert order.buyer.identifiers == [
        Identifier(scheme="DUNS", value="123456789"),
        Identifier(scheme="CXML:NetworkID", value="AN0100"),
    ]
    assert order.buyer.contact is not None and order.buyer.contact.name == "Pat Buyer"
    assert order.seller is not None and order.seller.identifier("CXML:NetworkID") == "AN0200"
    ship_to = order.ship_to
    assert ship_to is not None and ship_to.name == "Distribution Center 9"
    assert ship_to.identifiers == [Identifier(scheme="CXML:buyerLocationID", value="DC-9")]
    assert ship_to.address is not None
    assert ship_to.address.street == ["1 Harbor Way", "Building B"]
    assert (ship_to.address.city, ship_to.address.region, ship_to.address.postal_code) == (
        "Oakland",
        "CA",
        "94607",
    )
    assert ship_to.address.country == "US"
    assert ship_to.contact is not None
    assert (ship_to.contact.name, ship_to.contact.email) == ("Dock 4, Attn: Sam", "dock@buyer.example")
    assert ship_to.contact.phone == "+1 510 5550100 ext. 12"
    assert order.bill_to is not None and order.bill_to.name == "Buyer Inc. Accounts Payable"
    assert order.bill_to.contact is None
    assert order.allowances_charges == [
        AllowanceCharge(kind="charge", reason="shipping", amount=Decimal("7.50"))
    ]
    assert order.taxes == [
        Tax(type="sales", rate=Decimal("8.25"), amount=Decimal("8.90"), taxable_amount=Decimal("107.90"))
    ]
    assert order.totals is not None
    assert (order.totals.total, order.totals.tax_total) == (Decimal("118.40"), Decimal("8.90"))
    assert order.notes == ["Deliver before noon."]
    assert order.references == [
        Reference(qualifier="CXML:orderVersion", value="2"),
        Reference(qualifier="CXML:requisitionID", value="REQ-5"),
        Reference(qualifier="CXML:CostCenter", value="CC-42"),
    ]


def test_item_out_lines() -> None:
    order = read(document())[1].order
    assert order is not None
    first, second = order.lines
    assert (first.line_number, first.quantity, first.unit) == ("1", Decimal(10), "BX")
    assert (first.seller_item_id, first.buyer_item_id, first.gtin) == ("SP-1", "BP-1", "4006381333931")
    assert {(i.scheme, i.value) for i in first.item_identifiers} >= {
        ("CXML:SupplierPartAuxiliaryID", "AUX-1"),
        ("CXML:ManufacturerPartID", "MP-1"),
    }
    assert (first.unit_price, first.price_basis_quantity) == (Decimal("9.99"), Decimal(2))
    assert first.description == "Copy paper A4"
    assert first.requested_delivery_date == date(2024, 4, 10)
    assert first.taxes == [Tax(amount=Decimal("1.00"))]
    assert first.notes == ["Recycled only"]
    assert first.line_amount is None
    assert (second.line_number, second.description, second.unit_price) == ("2", "Stapler", Decimal("11.00"))


@pytest.mark.parametrize(("kind", "purpose"), [("update", "change"), ("delete", "cancel")])
def test_update_and_delete(kind: str, purpose: str) -> None:
    header = ORDER_HEADER.replace('type="new"', f'type="{kind}"').replace(
        "<Total>", '<DocumentReference payloadID="20240330.9@buyer.example"/><Total>'
    )
    order = read(document(header))[1].order
    assert order is not None and order.purpose == purpose
    assert Reference(qualifier="CXML:DocumentReference", value="20240330.9@buyer.example") in order.references


def test_unknown_type_is_other_with_a_warning() -> None:
    _, message = read(document(ORDER_HEADER.replace('type="new"', 'type="replace"')))
    assert message.order is not None and message.order.purpose == "other"
    [warning] = message.warnings
    assert (warning.code, warning.element) == ("CXML_PURPOSE", "@type")


def test_missing_order_id_is_located() -> None:
    data = document(ORDER_HEADER.replace('orderID="PO-77" ', ""))
    _, message = read(data)
    missing = next(e for e in message.errors if e.code == "CXML_REQUIRED_MISSING")
    assert (
        missing.segment == "/cXML/Request/OrderRequest/OrderRequestHeader" and missing.element == "@orderID"
    )
    assert (
        missing.position
        == data.decode()
        .splitlines()
        .index('    <OrderRequestHeader orderDate="2024-03-31T23:30:00-08:00" type="new"')
        + 2
    )
    assert translate(data).status == "rejected"


@pytest.mark.parametrize(
    ("old", "new", "code", "element"),
    [
        ('quantity="1" lineNumber="2"', 'lineNumber="2"', "CXML_QUANTITY_MISSING", "@quantity"),
        ('quantity="1" lineNumber="2"', 'quantity="one" lineNumber="2"', "CXML_NUMBER", "@quantity"),
        ('orderDate="2024-03-31T23:30:00-08:00"', 'orderDate="31/03/2024"', "CXML_DATE", "@orderDate"),
    ],
)
def test_bad_values_are_located_errors(old: str, new: str, code: str, element: str) -> None:
    data = document().replace(old.encode(), new.encode())
    assert data != document()
    _, message = read(data)
    [error] = [e for e in message.errors if e.code == code]
    assert error.element == element and error.position is not None and error.segment
    translation = translate(data)
    assert translation.status == "rejected" and translation.orders == []


def test_payloads_that_are_not_orders() -> None:
    for payload, words in (("ConfirmationRequest", "order confirmation"), ("FooRequest", "does not know")):
        data = document().replace(b"OrderRequest>", f"{payload}>".encode())
        [error] = translate(data).errors
        assert (
            error.code == "NOT_AN_ORDER" and f"cXML {payload} (" in error.message and words in error.message
        )
    response = b'<cXML payloadID="r1"><Response><Status code="200" text="OK"/></Response></cXML>'
    [error] = translate(response).errors
    assert error.code == "NOT_AN_ORDER" and "cXML Response" in error.message


def test_empty_request_is_refused() -> None:
    data = b'<cXML payloadID="x"><Header/>\n<Request deploymentMode="test"></Request></cXML>'
    with pytest.raises(ParseError) as raised:
        collect(FORMAT.read(data))
    assert (raised.value.code, raised.value.segment, raised.value.position) == (
        "CXML_NO_PAYLOAD",
        "/cXML/Request",
        2,
    )


# -- the Sender's SharedSecret ----------------------------------------------------------------------------


def outputs(data: bytes) -> list[str]:
    translation = translate(data)
    found = [json.dumps(translation_payload(translation), default=str), repr(translation)]
    found += [issue.describe() for issue in translation.errors + translation.warnings]
    try:
        found.append(repr(list(FORMAT.read(data))))
    except ParseError as error:
        found += [str(error), repr(error), error.message]
    return found


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),  # a good order
        (
            f"<SharedSecret>{SECRET}</SharedSecret>",
            f"<SharedSecret>{SECRET}</SharedSecre>",
        ),  # broken around it
        (
            f"<SharedSecret>{SECRET}</SharedSecret>",
            f"<SharedSecret>{SECRET}\x01</SharedSecret>",
        ),  # bad char in it
        (
            f"<SharedSecret>{SECRET}</SharedSecret>",
            f"<SharedSecret>{SECRET}&x;</SharedSecret>",
        ),  # unknown entity
        ('orderID="PO-77"', f'orderID="{SECRET[:3]}" orderID="dup"'),  # an error elsewhere still shows
    ],
    ids=["order", "tag", "control-char", "entity", "elsewhere"],
)
def test_shared_secret_appears_in_no_output(old: str, new: str, caplog: pytest.LogCaptureFixture) -> None:
    data = document().replace(old.encode(), new.encode()) if old else document()
    with caplog.at_level(logging.DEBUG):
        texts = outputs(data)
    assert all(SECRET not in text for text in [*texts, caplog.text])


def test_error_inside_the_secret_keeps_its_code_and_line_but_not_its_details() -> None:
    data = document().replace(SECRET.encode(), SECRET.encode() + b"\x01")
    [error] = translate(data).errors
    line = (
        data.decode()
        .splitlines()
        .index(
            f"      <SharedSecret>{SECRET}\x01</SharedSecret></Credential><UserAgent>Buyer 1.0</UserAgent></Sender>"
        )
        + 1
    )
    assert (error.code, error.position) == ("XML_MALFORMED", line)
    assert "withheld" in error.message


def test_an_error_elsewhere_keeps_its_details() -> None:
    data = document().replace(b"<City>Austin</City>", b"<City>Austin</Town>")
    [error] = translate(data).errors
    assert error.code == "XML_MALFORMED" and "City" in error.message and "withheld" not in error.message
