"""The root element of an XML document, read from its first bytes: what the XML formats sniff on."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from gateway.core.errors import Issue
from mappings.xml.prolog import ascii_view, scan

READ_BY_ORDERGATE = (
    "UBL 2 documents (root in a urn:oasis:names:specification:ubl:schema:xsd:<Document>-2 namespace) and cXML"
)


@dataclass(frozen=True, slots=True)
class Root:
    """The root element as written (`qname`, e.g. "ubl:Order"), its namespace and local name."""

    qname: str
    namespace: str | None
    local_name: str
    line: int
    doctype: str | None


def doctype_of(head: bytes) -> str | None:
    """The DOCTYPE name ("cXML"), found even when the root element starts beyond `head`."""
    return scan(ascii_view(head)).doctype


@lru_cache(maxsize=16)
def root_of(head: bytes) -> Root | None:
    """The root element, or None when the bytes are not XML or end before its start tag does.

    Only the root start tag is parsed (the prolog, DOCTYPE included, is skipped by `prolog.scan`), by a
    pull parser that loads nothing; cached because every XML format sniffs the same head in turn."""
    view = ascii_view(head)
    prolog = scan(view)
    if prolog.root_offset is None or prolog.root_line is None:
        return None
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    with suppress(etree.XMLSyntaxError):  # a fault after the root start tag is the full parse's to report
        parser.feed(view[prolog.root_offset :].decode("utf-8", errors="replace"))
    for _, element in parser.read_events():
        name = etree.QName(element)
        prefix = element.prefix
        return Root(
            qname=f"{prefix}:{name.localname}" if prefix else name.localname,
            namespace=name.namespace,
            local_name=name.localname,
            line=prolog.root_line,
            doctype=prolog.doctype,
        )
    return None


def unrecognised_xml(head: bytes) -> Issue:
    """Why an XML document is refused when no XML format recognises it, naming its root element."""
    root = root_of(head)
    if root is None:
        return Issue(
            code="UNSUPPORTED_FORMAT",
            message="the document starts like XML but its root element cannot be read in its first "
            f"4 KiB, so it is none of the XML documents ordergate reads: {READ_BY_ORDERGATE}",
            position=1,
        )
    where = f"in namespace {root.namespace}" if root.namespace else "in no namespace"
    return Issue(
        code="UNSUPPORTED_FORMAT",
        message=f"the document is XML with root element <{root.qname}> {where}, none of the XML documents "
        f"ordergate reads: {READ_BY_ORDERGATE}",
        segment=root.qname,
        position=root.line,
    )
