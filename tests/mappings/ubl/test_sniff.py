"""Recognising UBL from a document's first 4 KiB, and naming the root of XML no format reads."""

from __future__ import annotations

import pytest

from mappings.registry import detect
from mappings.sniff import describe_unrecognised
from mappings.ubl import FORMAT

ORDER = 'Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"'
PREFIXED = 'ubl:Order xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Order-2"'


@pytest.mark.parametrize(
    "head",
    [
        f"<{ORDER}>".encode(),
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{ORDER}>'.encode(),
        b"\xef\xbb\xbf" + f'<?xml version="1.0"?>\r\n<{ORDER}>'.encode(),
        f'<?xml version="1.0"?>\n<!-- exported by ERP <x> -->\n<?erp job="1"?>\n<{ORDER}>'.encode(),
        f'<?xml version="1.0"?>\n<!DOCTYPE Order SYSTEM "Order.dtd">\n<{ORDER}>'.encode(),
        f"<{PREFIXED}><cbc:ID>1</cbc:ID>".encode(),
        f'<?xml version="1.0" encoding="UTF-16"?>\n<{ORDER}>'.encode("utf-16"),
        f'<{ORDER}\n   xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'.encode(),
        b'<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2">',
    ],
    ids=[
        "bare",
        "declaration",
        "bom-crlf",
        "comment-pi",
        "doctype",
        "prefixed",
        "utf16",
        "multiline",
        "other-doc",
    ],
)
def test_ubl_is_recognised(head: bytes) -> None:
    assert FORMAT.sniff(head)
    assert detect(head) is FORMAT


@pytest.mark.parametrize(
    "head",
    [
        b"<?xml version='1.0'?><Order/>",
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-3"/>',
        b'<Order xmlns="urn:example:orders"/>',
        b"<cXML payloadID='1'>",
        b"UNB+UNOC:3+A+B+240101:1200+1'",
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"',  # start tag cut off
        b"",
    ],
)
def test_other_bytes_are_not_ubl(head: bytes) -> None:
    assert not FORMAT.sniff(head)


def test_unrecognised_xml_names_its_root_element() -> None:
    issue = describe_unrecognised(b"<?xml version='1.0'?>\n\n<po:PurchaseOrder xmlns:po='urn:example:po'>")
    assert issue.code == "UNSUPPORTED_FORMAT"
    assert "<po:PurchaseOrder>" in issue.message and "urn:example:po" in issue.message
    assert "UBL" in issue.message and "cXML" in issue.message
    assert (issue.segment, issue.position) == ("po:PurchaseOrder", 3)


def test_unreadable_xml_root_is_said_so() -> None:
    issue = describe_unrecognised(b"<?xml version='1.0'?><Order xmlns='")
    assert issue.code == "UNSUPPORTED_FORMAT" and "cannot be read" in issue.message
