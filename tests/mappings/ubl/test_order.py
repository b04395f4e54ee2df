"""UBL Order family → canonical order, on small documents written for these tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.core.canonical import AllowanceCharge, Identifier, Reference, Tax
from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.translate import translate
from mappings.ubl import FORMAT

NS = 'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" ' \
     'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'  # fmt: skip

PARTIES = """
  <cac:BuyerCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0088">5790000435975</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID schemeID="0192">987654325</cbc:ID></cac:PartyIdentification>
    <cac:PartyIdentification><cbc:ID>CUST-7</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Buyer AS</cbc:Name></cac:PartyName>
    <cac:PostalAddress>
      <cbc:StreetName>Main Street</cbc:StreetName><cbc:BuildingNumber>12</cbc:BuildingNumber>
      <cbc:AdditionalStreetName>Gate 3</cbc:AdditionalStreetName>
      <cbc:CityName>Oslo</cbc:CityName><cbc:PostalZone>0150</cbc:PostalZone>
      <cbc:CountrySubentity>Oslo county</cbc:CountrySubentity>
      <cac:AddressLine><cbc:Line>Floor 2</cbc:Line></cac:AddressLine>
      <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>
    </cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>NO987654325MVA</cbc:CompanyID>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:Contact><cbc:Name>Kari</cbc:Name><cbc:Telephone>+47 1234</cbc:Telephone>
      <cbc:ElectronicMail>kari@buyer.example</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:BuyerCustomerParty>
  <cac:SellerSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0060">123456789</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>Seller Ltd</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:SellerSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PartyIdentification><cbc:ID schemeAgencyID="9">5790000435982</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Buyer Accounts</cbc:Name></cac:PartyName>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:Delivery>
    <cac:DeliveryLocation><cbc:ID schemeID="0088">5790000435999</cbc:ID>
      <cac:Address><cbc:StreetName>Dock Road</cbc:StreetName><cbc:CityName>Bergen</cbc:CityName>
        <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country></cac:Address>
    </cac:DeliveryLocation>
    <cac:RequestedDeliveryPeriod><cbc:StartDate>2024-06-10</cbc:StartDate>
      <cbc:EndDate>2024-06-12</cbc:EndDate></cac:RequestedDeliveryPeriod>
    <cac:DeliveryParty><cac:PartyName><cbc:Name>Warehouse West</cbc:Name></cac:PartyName>
      <cac:Contact><cbc:Name>Ola</cbc:Name></cac:Contact></cac:DeliveryParty>
    <cac:Despatch><cbc:RequestedDespatchDate>2024-06-08</cbc:RequestedDespatchDate></cac:Despatch>
  </cac:Delivery>"""

LINE_1 = """
  <cac:OrderLine><cbc:Note>handle with care</cbc:Note><cac:LineItem>
    <cbc:ID>10</cbc:ID>
    <cbc:Quantity unitCode="C62">24</cbc:Quantity>
    <cbc:LineExtensionAmount currencyID="EUR">45.00</cbc:LineExtensionAmount>
    <cbc:TotalTaxAmount currencyID="EUR">11.25</cbc:TotalTaxAmount>
    <cac:Delivery><cac:RequestedDeliveryPeriod><cbc:EndDate>2024-06-20</cbc:EndDate>
      </cac:RequestedDeliveryPeriod></cac:Delivery>
    <cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>
      <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>
      <cbc:AllowanceChargeReason>Discount</cbc:AllowanceChargeReason>
      <cbc:Amount currencyID="EUR">3.00</cbc:Amount></cac:AllowanceCharge>
    <cac:Price><cbc:PriceAmount currencyID="EUR">20.00</cbc:PriceAmount>
      <cbc:BaseQuantity unitCode="C62">10</cbc:BaseQuantity>
      <cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>
        <cbc:Amount currencyID="EUR">1.00</cbc:Amount></cac:AllowanceCharge></cac:Price>
    <cac:Item><cbc:Description>Blue widget, boxed</cbc:Description><cbc:Name>Widget</cbc:Name>
      <cac:BuyersItemIdentification><cbc:ID>B-1</cbc:ID></cac:BuyersItemIdentification>
      <cac:SellersItemIdentification><cbc:ID>S-1</cbc:ID></cac:SellersItemIdentification>
      <cac:ManufacturersItemIdentification><cbc:ID>M-1</cbc:ID></cac:ManufacturersItemIdentification>
      <cac:StandardItemIdentification><cbc:ID schemeID="0160">4006381333931</cbc:ID></cac:StandardItemIdentification>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item>
  </cac:LineItem></cac:OrderLine>"""

LINE_2 = """
  <cac:OrderLine><cac:LineItem>
    <cbc:ID>20</cbc:ID>
    <cbc:Quantity unitCode="KGM">1.5</cbc:Quantity>
    <cac:Price><cbc:PriceAmount currencyID="EUR">8</cbc:PriceAmount>
      <cbc:BaseQuantity unitCode="KGM">1</cbc:BaseQuantity></cac:Price>
    <cac:Item><cbc:Name>Coffee</cbc:Name></cac:Item>
  </cac:LineItem></cac:OrderLine>"""

SUMMARY = """
  <cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>
    <cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>
    <cbc:AllowanceChargeReason>Freight</cbc:AllowanceChargeReason>
    <cbc:Amount currencyID="EUR">9.50</cbc:Amount>
    <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">16.13</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">64.50</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">16.13</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:AnticipatedMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">57.00</cbc:LineExtensionAmount>
    <cbc:ChargeTotalAmount currencyID="EUR">9.50</cbc:ChargeTotalAmount>
    <cbc:AllowanceTotalAmount currencyID="EUR">2.00</cbc:AllowanceTotalAmount>
    <cbc:PayableAmount currencyID="EUR">80.63</cbc:PayableAmount>
  </cac:AnticipatedMonetaryTotal>"""

HEADER = """
  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
  <cbc:ID>PO-100</cbc:ID>
  <cbc:UUID>0c8c5c5e-6b2e-4b5e-9d8a-3f1f2b7c9e01</cbc:UUID>
  <cbc:IssueDate>2024-05-31</cbc:IssueDate>
  <cbc:IssueTime>09:15:00</cbc:IssueTime>
  <cbc:Note>first note</cbc:Note>
  <cbc:Note>second note</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:CustomerReference>REF-9</cbc:CustomerReference>
  <cac:OrderDocumentReference><cbc:ID>PO-99</cbc:ID></cac:OrderDocumentReference>
  <cac:Contract><cbc:ID>CT-1</cbc:ID></cac:Contract>
  <cac:ProjectReference><cbc:ID>PR-2</cbc:ID></cac:ProjectReference>"""


def document(
    root: str = "Order", header: str = HEADER, body: str = PARTIES + SUMMARY + LINE_1 + LINE_2
) -> bytes:
    namespace = f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace}" {NS}>{header}{body}\n</{root}>\n'.encode()


def read(data: bytes) -> tuple[InterchangeHeader, MessageOutcome]:
    header, messages = collect(FORMAT.read(data))
    assert header is not None
    [message] = messages
    return header, message


def test_header_parties_and_dates() -> None:
    header, message = read(document())
    assert message.errors == [] and message.warnings == []
    order = message.order
    assert order is not None
    assert (order.order_number, order.purpose, order.currency) == ("PO-100", "original", "EUR")
    assert order.order_date == date(2024, 5, 31)
    assert order.requested_delivery_date == date(2024, 6, 10)  # start of the requested period
    assert order.requested_ship_date == date(2024, 6, 8)
    assert order.notes == ["first note", "second note"]
    assert order.buyer is not None and order.buyer.name == "Buyer AS"
    assert order.buyer.identifiers == [
        Identifier(scheme="GLN", value="5790000435975"),
        Identifier(scheme="UBL:0192", value="987654325"),
        Identifier(scheme="PARTNER", value="CUST-7"),
        Identifier(scheme="UBL:VAT", value="NO987654325MVA"),
    ]
    assert order.buyer.address is not None
    assert order.buyer.address.street == ["Main Street 12", "Gate 3", "Floor 2"]
    assert (order.buyer.address.city, order.buyer.address.postal_code) == ("Oslo", "0150")
    assert (order.buyer.address.region, order.buyer.address.country) == ("Oslo county", "NO")
    assert order.buyer.contact is not None
    assert (order.buyer.contact.name, order.buyer.contact.phone) == ("Kari", "+47 1234")
    assert order.buyer.contact.email == "kari@buyer.example"
    assert (
        order.seller is not None and order.seller.name == "Seller Ltd"
    )  # PartyLegalEntity when no PartyName
    assert order.seller.identifier("DUNS") == "123456789"
    assert (
        order.bill_to is not None and order.bill_to.identifier("GLN") == "5790000435982"
    )  # schemeAgencyID 9
    assert order.ship_to is not None and order.ship_to.name == "Warehouse West"
    assert order.ship_to.identifier("GLN") == "5790000435999"
    assert order.ship_to.address is not None and order.ship_to.address.city == "Bergen"
    assert order.ship_to.contact is not None and order.ship_to.contact.name == "Ola"
    assert (header.sender_id, header.sender_qualifier) == ("5790000435975", "0088")
    assert (header.receiver_id, header.receiver_qualifier) == ("123456789", "0060")
    assert header.control_ref == "0c8c5c5e-6b2e-4b5e-9d8a-3f1f2b7c9e01"  # the UUID, when there is one
    assert header.prepared_at == "2024-05-31T09:15:00"
    assert message.message_ref == order.source.message_control_ref == "PO-100"
    assert order.source.interchange_control_ref == header.control_ref
    assert (order.source.format, order.source.standard_version) == ("ubl", "2.1")


def test_references_amounts_and_totals() -> None:
    order = read(document())[1].order
    assert order is not None
    assert order.references == [
        Reference(qualifier="UBL:CustomerReference", value="REF-9"),
        Reference(qualifier="UBL:OrderDocumentReference", value="PO-99"),
        Reference(qualifier="UBL:Contract", value="CT-1"),
        Reference(qualifier="UBL:ProjectReference", value="PR-2"),
    ]
    assert order.allowances_charges == [
        AllowanceCharge(
            kind="charge",
            reason="Freight",
            code="FC",
            amount=Decimal("9.50"),
            taxes=[Tax(type="VAT", rate=Decimal(25))],
        )
    ]
    assert order.taxes == [
        Tax(type="VAT", rate=Decimal(25), amount=Decimal("16.13"), taxable_amount=Decimal("64.50"))
    ]
    assert order.totals is not None
    assert (order.totals.line_total, order.totals.charge_total, order.totals.allowance_total) == (
        Decimal("57.00"),
        Decimal("9.50"),
        Decimal("2.00"),
    )
    assert (order.totals.tax_total, order.totals.total) == (Decimal("16.13"), Decimal("80.63"))


def test_lines() -> None:
    order = read(document())[1].order
    assert order is not None
    first, second = order.lines
    assert (first.line_number, first.quantity, first.unit) == ("10", Decimal(24), "C62")
    assert (first.gtin, first.buyer_item_id, first.seller_item_id) == ("4006381333931", "B-1", "S-1")
    assert Identifier(scheme="UBL:ManufacturersItemIdentification", value="M-1") in first.item_identifiers
    assert first.description == "Blue widget, boxed"
    assert (first.unit_price, first.price_basis_quantity) == (Decimal("20.00"), Decimal(10))
    assert first.line_amount == Decimal("45.00")
    assert first.requested_delivery_date == date(2024, 6, 20)  # the period's end when it has no start
    # the line's own discount, not the one inside cac:Price (that one explains the net price)
    assert first.allowances_charges == [
        AllowanceCharge(kind="allowance", reason="Discount", code="95", amount=Decimal("3.00"))
    ]
    assert first.taxes == [Tax(type="VAT", rate=Decimal(25), amount=Decimal("11.25"))]
    assert first.notes == ["handle with care"]
    assert (second.line_number, second.quantity, second.unit, second.description) == (
        "20",
        Decimal("1.5"),
        "KGM",
        "Coffee",
    )
    assert second.price_basis_quantity is None  # a base quantity of 1 is the default


def test_ubl20_names_and_currency_from_the_payable_amount() -> None:
    header = "<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:ID>P20</cbc:ID><cbc:IssueDate>2010-01-02</cbc:IssueDate>"
    body = (
        """
      <cac:BuyerCustomerParty><cbc:CustomerAssignedAccountID>ACC-B</cbc:CustomerAssignedAccountID>
        <cbc:SupplierAssignedAccountID>ACC-S</cbc:SupplierAssignedAccountID>
        <cac:Party><cac:PartyIdentification><cbc:ID schemeID="GLN">5790000435975</cbc:ID></cac:PartyIdentification>
        </cac:Party></cac:BuyerCustomerParty>
      <cac:Delivery><cbc:LatestDeliveryDate>2010-02-26</cbc:LatestDeliveryDate>
        <cac:DeliveryAddress><cbc:CityName>Bridgtow</cbc:CityName></cac:DeliveryAddress></cac:Delivery>
      <cac:AnticipatedMonetaryTotal><cbc:PayableAmount currencyID="GBP">100.00</cbc:PayableAmount>
      </cac:AnticipatedMonetaryTotal>"""
        + LINE_2
    )
    header_event, message = read(document(header=header, body=body))
    order = message.order
    assert order is not None and message.errors == []
    assert order.currency == "GBP"
    assert order.requested_delivery_date == date(2010, 2, 26)
    assert order.buyer is not None
    assert [(i.scheme, i.value) for i in order.buyer.identifiers] == [
        ("GLN", "5790000435975"),
        ("BUYER", "ACC-B"),
        ("SELLER", "ACC-S"),
    ]
    assert (header_event.sender_id, header_event.sender_qualifier) == ("5790000435975", "GLN")
    assert header_event.control_ref == "P20"  # no UUID: the document id
    assert order.ship_to is not None and order.ship_to.address is not None
    assert order.ship_to.address.city == "Bridgtow"


@pytest.mark.parametrize(("root", "purpose"), [("OrderChange", "change"), ("OrderCancellation", "cancel")])
def test_change_and_cancellation_concern_the_referenced_order(root: str, purpose: str) -> None:
    header = "<cbc:ID>DOC-5</cbc:ID><cbc:IssueDate>2024-06-01</cbc:IssueDate>"
    header += "<cbc:CancellationNote>not needed</cbc:CancellationNote>" if root == "OrderCancellation" else ""
    header += "<cac:OrderReference><cbc:ID>PO-100</cbc:ID></cac:OrderReference>"
    lines = LINE_2.replace(
        "<cbc:ID>20</cbc:ID>", "<cbc:ID>20</cbc:ID><cbc:LineStatusCode>2</cbc:LineStatusCode>"
    )
    header_event, message = read(document(root, header, PARTIES + (lines if root == "OrderChange" else "")))
    order = message.order
    assert order is not None
    assert (order.order_number, order.purpose, order.source.message_type) == ("PO-100", purpose, root)
    assert Reference(qualifier=f"UBL:{root}", value="DOC-5") in order.references
    assert header_event.control_ref == message.message_ref == "DOC-5"
    if root == "OrderChange":
        assert message.errors == []
        assert order.lines[0].notes == ["line status 2 (deleted)"]
    else:
        # consistent with EDIFACT and X12: the shared check refuses an order without lines
        assert order.notes == ["not needed"] and order.lines == []
        assert [e.code for e in message.errors] == ["ORDER_NO_LINES"]


def test_copy_indicator_makes_a_duplicate() -> None:
    order = read(document(header=HEADER + "<cbc:CopyIndicator>true</cbc:CopyIndicator>"))[1].order
    assert order is not None and order.purpose == "duplicate"


def test_missing_order_number_is_located() -> None:
    data = document(header=HEADER.replace("<cbc:ID>PO-100</cbc:ID>", ""))
    _, message = read(data)
    missing = next(e for e in message.errors if e.code == "UBL_REQUIRED_MISSING")
    assert (missing.segment, missing.element, missing.position) == ("/Order", "cbc:ID", 2)
    assert "ORDER_NUMBER_MISSING" in {e.code for e in message.errors}
    assert translate(data).status == "rejected"


def test_order_without_lines_is_located() -> None:
    data = document(body=PARTIES)
    _, message = read(data)
    assert {(e.code, e.segment, e.element) for e in message.errors} >= {
        ("UBL_REQUIRED_MISSING", "/Order", "cac:OrderLine")
    }
    translation = translate(data)
    assert translation.status == "rejected" and translation.orders == []


def test_line_without_quantity_is_located() -> None:
    body = PARTIES + LINE_1 + LINE_2.replace('<cbc:Quantity unitCode="KGM">1.5</cbc:Quantity>', "")
    data = document(body=body)
    _, message = read(data)
    [missing] = [e for e in message.errors if e.code == "UBL_QUANTITY_MISSING"]
    assert missing.segment == "/Order/cac:OrderLine[2]/cac:LineItem"
    assert missing.element == "cbc:Quantity"
    line = data.decode().splitlines().index("  <cac:OrderLine><cac:LineItem>") + 1
    assert missing.position == line
    assert translate(data).status == "rejected"


@pytest.mark.parametrize(
    ("old", "new", "code", "element_path"),
    [
        ('unitCode="KGM">1.5<', 'unitCode="KGM">1,5<', "UBL_NUMBER", "cbc:Quantity"),
        (">8</cbc:PriceAmount>", ">NaN</cbc:PriceAmount>", "UBL_NUMBER", "cbc:PriceAmount"),
        ("2024-05-31</cbc:IssueDate>", "31.05.2024</cbc:IssueDate>", "UBL_DATE", "cbc:IssueDate"),
        (
            "<cbc:ChargeIndicator>true<",
            "<cbc:ChargeIndicator>maybe<",
            "UBL_CHARGE_INDICATOR",
            "cac:AllowanceCharge",
        ),
    ],
)
def test_unreadable_values_are_errors_at_their_element(
    old: str, new: str, code: str, element_path: str
) -> None:
    data = document().replace(old.encode(), new.encode())
    assert data != document()
    _, message = read(data)
    [error] = [e for e in message.errors if e.code == code]
    assert error.segment is not None and error.segment.endswith(element_path)
    assert error.position is not None
    assert translate(data).status == "rejected"


def test_missing_line_number_uses_the_position_with_a_warning() -> None:
    data = document(body=PARTIES + LINE_2.replace("<cbc:ID>20</cbc:ID>", ""))
    _, message = read(data)
    assert message.order is not None and message.order.lines[0].line_number == "1"
    assert [w.code for w in message.warnings] == ["UBL_LINE_NUMBER_MISSING"]
    assert translate(data).status == "accepted"


@pytest.mark.parametrize(
    ("root", "words"),
    [("Invoice", "invoice"), ("OrderResponseSimple", "simple order response"), ("Foo", "does not know")],
)
def test_other_ubl_documents_are_not_orders(root: str, words: str) -> None:
    data = document(root, "<cbc:ID>X-1</cbc:ID>", "")
    translation = translate(data)
    assert translation.format == "ubl" and translation.status == "rejected"
    [error] = translation.errors
    assert error.code == "NOT_AN_ORDER"
    assert f"UBL {root}" in error.message and words in error.message
    assert (error.segment, error.position) == (f"/{root}", 2)


@pytest.mark.parametrize(
    ("attributes", "gtin", "scheme"),
    [
        ('schemeID="0160"', "4006381333931", "GTIN"),
        ('schemeID="GTIN"', "4006381333931", "GTIN"),
        ('schemeAgencyID="9"', "4006381333931", "GTIN"),
        ('schemeID="0003"', None, "UBL:0003"),
        ("", None, "UBL:StandardItemIdentification"),
    ],
)
def test_standard_item_identification_schemes(attributes: str, gtin: str | None, scheme: str) -> None:
    data = document().replace(b'<cbc:ID schemeID="0160">', f"<cbc:ID {attributes}>".encode())
    order = read(data)[1].order
    assert order is not None
    assert order.lines[0].gtin == gtin
    assert Identifier(scheme=scheme, value="4006381333931") in order.lines[0].item_identifiers
