"""One cXML document → events: an `InterchangeHeader` from its Header, one `MessageOutcome` for its payload.

Header/From/Credential is the sender (Identity as id, domain as qualifier), Header/To/Credential the
receiver (the first Credential of each), the cXML payloadID the control reference, timestamp the
preparation time, Request/@deploymentMode="test" the test flag. The version is the one in the DOCTYPE's
system URL (.../cXML/1.2.014/cXML.dtd), else cXML/@version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from gateway.core.canonical import OrderSource
from gateway.core.errors import ParseError
from mappings.base import Event, InterchangeHeader, MessageOutcome
from mappings.cxml.documents import ORDER_PAYLOADS, unsupported_message
from mappings.cxml.order import order_of
from mappings.xml import Fields, line_of, path_of
from mappings.xml.outcome import map_order, not_an_order

NOT_CXML = "CXML_NOT_CXML"
NO_PAYLOAD = "CXML_NO_PAYLOAD"
MAPPING = "CXML_MAPPING"

_DTD_VERSION = re.compile(r"/cXML/(\d+(?:\.\d+)+)/", re.IGNORECASE)
_KINDS = ("Request", "Message", "Response")


def read_document(root: etree._Element) -> Iterator[Event]:
    position = line_of(root) or 1
    if root.tag != "cXML":
        raise ParseError(
            f"the root element is <{etree.QName(root).localname}>, not <cXML>",
            code=NOT_CXML,
            segment=path_of(root),
            position=position,
        )
    payload, kind = _payload(root)
    fields = Fields("CXML")
    header = _header(fields, root, kind)
    yield header
    payload_name = etree.QName(payload).localname if kind != "Response" else "Response"
    version = _version(root)
    outcome = MessageOutcome(
        message_type=payload_name,
        message_ref=header.control_ref,
        version=version,
        position=line_of(payload) or position,
    )
    if payload_name not in ORDER_PAYLOADS:
        yield not_an_order(outcome, unsupported_message(payload_name), payload)
        return
    source = OrderSource(
        format="cxml",
        standard_version=version,
        message_type=payload_name,
        sender_id=header.sender_id or None,
        sender_qualifier=header.sender_qualifier,
        receiver_id=header.receiver_id or None,
        receiver_qualifier=header.receiver_qualifier,
        interchange_control_ref=header.control_ref or None,
        message_control_ref=header.control_ref or None,
        test=header.test,
    )
    yield map_order(
        outcome,
        fields,
        lambda: order_of(fields, root, payload, source),
        code=MAPPING,
        what="OrderRequest",
        element=payload,
    )


def _payload(root: etree._Element) -> tuple[etree._Element, str]:
    """The payload element and its kind; a Response is its own payload (Status, then maybe a body)."""
    for kind in _KINDS:
        wrapper = root.find(kind)
        if wrapper is None:
            continue
        if kind == "Response":
            return wrapper, kind
        payload = next((child for child in wrapper if isinstance(child.tag, str)), None)
        if payload is not None:
            return payload, kind
        raise ParseError(
            f"the cXML {kind} is empty: it carries no request or message",
            code=NO_PAYLOAD,
            segment=path_of(wrapper),
            position=line_of(wrapper),
        )
    raise ParseError(
        "the cXML document has no Request, Message or Response",
        code=NO_PAYLOAD,
        segment=path_of(root),
        position=line_of(root),
    )


def _header(fields: Fields, root: etree._Element, kind: str) -> InterchangeHeader:
    sender, sender_domain = _credential(fields, root, "Header/From/Credential")
    receiver, receiver_domain = _credential(fields, root, "Header/To/Credential")
    wrapper = root.find(kind)
    mode = (wrapper.get("deploymentMode") or "").strip() if wrapper is not None else ""
    return InterchangeHeader(
        format="cxml",
        sender_id=sender,
        sender_qualifier=sender_domain,
        receiver_id=receiver,
        receiver_qualifier=receiver_domain,
        control_ref=(root.get("payloadID") or "").strip(),
        syntax=None,
        prepared_at=(root.get("timestamp") or "").strip() or None,
        test=mode == "test",
    )


def _credential(fields: Fields, root: etree._Element, path: str) -> tuple[str, str | None]:
    credential = fields.find(root, path)
    if credential is None:
        return "", None
    return fields.text(credential, "Identity") or "", (credential.get("domain") or "").strip() or None


def _version(root: etree._Element) -> str | None:
    found = _DTD_VERSION.search(root.getroottree().docinfo.system_url or "")
    return found.group(1) if found else (root.get("version") or "").strip() or None
