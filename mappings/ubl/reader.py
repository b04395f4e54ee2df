"""One UBL document → events: an `InterchangeHeader` (who sent it, to whom, under which id) and one
`MessageOutcome` (its order, or the plain name of a document that is not an order).

UBL has no envelope of its own, so the header comes from the document: the sender is the endpoint
(cbc:EndpointID, else the first PartyIdentification) of the party that sends this kind of document, the
buyer for the Order family, with its schemeID as qualifier; the receiver likewise; the control
reference is the document's cbc:UUID when it has one, else its cbc:ID.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from gateway.core.canonical import OrderSource
from gateway.core.errors import ParseError
from mappings.base import Event, InterchangeHeader, MessageOutcome
from mappings.ubl.documents import (
    NAMESPACES,
    ORDER_PURPOSES,
    SENDER_RECEIVER,
    document_of,
    unsupported_message,
)
from mappings.ubl.order import order_of
from mappings.xml import Fields, line_of, path_of
from mappings.xml.outcome import map_order, not_an_order

NOT_UBL = "UBL_NOT_UBL"
MAPPING = "UBL_MAPPING"


def read_document(root: etree._Element) -> Iterator[Event]:
    document = document_of(etree.QName(root).namespace)
    position = line_of(root) or 1
    if document is None:
        raise ParseError(
            f"the root element <{etree.QName(root).localname}> is not in a UBL 2 document namespace "
            "(urn:oasis:names:specification:ubl:schema:xsd:<Document>-2)",
            code=NOT_UBL,
            segment=path_of(root),
            position=position,
        )
    fields = Fields("UBL", NAMESPACES)
    header = _header(fields, root, document)
    yield header
    version = fields.text(root, "cbc:UBLVersionID") or fields.text(root, "cbc:CustomizationID")
    outcome = MessageOutcome(
        message_type=document,
        message_ref=fields.text(root, "cbc:ID") or "",
        version=version,
        position=position,
    )
    if document not in ORDER_PURPOSES:
        yield not_an_order(outcome, unsupported_message(document), root)
        return
    source = OrderSource(
        format="ubl",
        standard_version=version,
        message_type=document,
        sender_id=header.sender_id or None,
        sender_qualifier=header.sender_qualifier,
        receiver_id=header.receiver_id or None,
        receiver_qualifier=header.receiver_qualifier,
        interchange_control_ref=header.control_ref or None,
        message_control_ref=outcome.message_ref or None,
    )
    yield map_order(
        outcome,
        fields,
        lambda: order_of(fields, root, document, source),
        code=MAPPING,
        what=document,
        element=root,
    )


def _header(fields: Fields, root: etree._Element, document: str) -> InterchangeHeader:
    sender_role, receiver_role = SENDER_RECEIVER.get(document, (None, None))
    sender, sender_scheme = _endpoint(fields, root, sender_role)
    receiver, receiver_scheme = _endpoint(fields, root, receiver_role)
    issued = fields.text(root, "cbc:IssueDate")
    time = fields.text(root, "cbc:IssueTime")
    return InterchangeHeader(
        format="ubl",
        sender_id=sender,
        sender_qualifier=sender_scheme,
        receiver_id=receiver,
        receiver_qualifier=receiver_scheme,
        control_ref=fields.text(root, "cbc:UUID") or fields.text(root, "cbc:ID") or "",
        syntax=fields.text(root, "cbc:UBLVersionID"),
        prepared_at=f"{issued}T{time}" if issued and time else issued,
    )


def _endpoint(fields: Fields, root: etree._Element, role: str | None) -> tuple[str, str | None]:
    if role is None:
        return "", None
    party = fields.find(root, f"{role}/cac:Party")
    for path in ("cbc:EndpointID", "cac:PartyIdentification/cbc:ID"):
        element = fields.find(party, path)
        value = fields.text(element)
        if element is not None and value is not None:
            return value, (element.get("schemeID") or "").strip() or None
    return "", None
