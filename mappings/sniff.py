"""Plain-words reasons for documents no registered format recognises."""

from __future__ import annotations

import re

from gateway.core.errors import Issue
from mappings.xml import unrecognised_xml

_EDIFACT_SEGMENT = re.compile(rb"[A-Z][A-Z0-9]{2}\+")

_BINARY_MAGIC = {
    b"%PDF": "a PDF file",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


def describe_unrecognised(data: bytes) -> Issue:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return Issue(code="EMPTY_DOCUMENT", message="the document is empty")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return Issue(code="UNKNOWN_FORMAT", message=f"the document is {what}, not an EDI document")
    if head.startswith(b"<"):
        return unrecognised_xml(head)
    if head.startswith((b"{", b"[")):
        return Issue(
            code="UNSUPPORTED_FORMAT",
            message="the document is JSON but none of the marketplace order shapes ordergate reads "
            "(Shopify or WooCommerce orders, Amazon SP-API getOrder with getOrderItems)",
        )
    if b"\x00" in head or _mostly_binary(head):
        return Issue(code="UNKNOWN_FORMAT", message="the document is binary data, not an EDI document")
    if _EDIFACT_SEGMENT.match(head):
        return Issue(
            code="EDIFACT_NOT_INTERCHANGE",
            message="the document holds EDIFACT segments but is not an interchange: it does not start "
            "with UNA or UNB (a message body without its envelope?)",
            segment=head[:3].decode("ascii"),
            position=1,
        )
    return Issue(
        code="UNKNOWN_FORMAT",
        message="the document is neither UN/EDIFACT (starting UNA or UNB) nor X12 (starting ISA)",
        position=1,
    )


def _mostly_binary(head: bytes) -> bool:
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    return control > len(head) // 10
