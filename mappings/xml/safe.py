"""Parse partner XML without letting it reach files, the network or unbounded memory.

Why lxml's own parser options and not defusedxml: lxml is already the project's XML library and gives
every element its source line (issues point at it); `defusedxml.lxml` is deprecated and only wrapped
the same lxml parser, and defusedxml's maintained modules sit on the standard library's expat parser,
which has no source lines on elements. The guard is therefore three layers, each enough on its own for
the attacks it names:

1. Before parsing, the prolog is scanned (`prolog.scan`): a DTD internal subset is refused
   (`XML_ENTITY_REFUSED` when it declares entities: XXE, parameter entities, billion laughs;
   `XML_DTD_REFUSED` otherwise), so libxml2 never reads a declaration. A plain external DOCTYPE (every
   cXML document has one) is allowed.
2. The parser never loads a DTD, never resolves an entity, never uses the network, keeps libxml2's
   size limits (`huge_tree=False`) and drops comments and processing instructions.
3. After parsing, entity declarations or unresolved entity references that slipped past the scan (a
   prolog in an encoding the scan cannot read) refuse the document all the same.

A document larger than `max_bytes` is refused before any parsing.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.core.errors import ParseError
from mappings.base import Source, iter_chunks
from mappings.xml.prolog import ascii_view, scan

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""10 MiB: far above any order seen in practice, even with embedded attachments; the gateway's own
`max_document_bytes` (100 MiB) bounds uploads of every format, this bounds the XML tree in memory."""

TOO_LARGE = "XML_TOO_LARGE"
EMPTY = "XML_EMPTY"
MALFORMED = "XML_MALFORMED"
ENTITY_REFUSED = "XML_ENTITY_REFUSED"
DTD_REFUSED = "XML_DTD_REFUSED"

_LOCATION_SUFFIX = re.compile(r", line \d+, column \d+$")


def read_limited(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The whole document, refused with `XML_TOO_LARGE` as soon as it passes `max_bytes`."""
    chunks: list[bytes] = []
    size = 0
    for chunk in iter_chunks(source):
        size += len(chunk)
        if size > max_bytes:
            raise ParseError(
                f"the XML document is larger than the limit of {max_bytes} bytes", code=TOO_LARGE
            )
        chunks.append(chunk)
    return b"".join(chunks)


def parse(data: bytes) -> etree._Element:
    """The root element of a well-formed document that declares no entities; `ParseError` otherwise."""
    if not data.strip():
        raise ParseError("the XML document is empty", code=EMPTY, position=1)
    prolog = scan(ascii_view(data))
    if prolog.internal_subset:
        _refuse_subset(prolog.declares_entities, prolog.doctype_line or 1)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as error:
        raise _malformed(error) from None
    refuse_entities(root)
    return root


def hardened_parser() -> etree.XMLParser:
    """No DTD, no entity resolution, no network, libxml2's size limits on; comments and PIs dropped."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse_subset(declares_entities: bool, line: int) -> None:
    if declares_entities:
        raise ParseError(
            "the XML document declares entities in its DOCTYPE; ordergate refuses entity declarations, "
            "since they can read local files, call other servers or expand without bound (XXE, billion "
            "laughs)",
            code=ENTITY_REFUSED,
            segment="DOCTYPE",
            position=line,
        )
    raise ParseError(
        "the XML document carries a DTD internal subset (declarations inside DOCTYPE [...]); ordergate "
        "refuses them: an order needs none",
        code=DTD_REFUSED,
        segment="DOCTYPE",
        position=line,
    )


def refuse_entities(root: etree._Element) -> None:
    """Refuse a parsed document that declares entities or still holds an entity reference."""
    internal = root.getroottree().docinfo.internalDTD
    if internal is not None and any(True for _ in internal.iterentities()):
        _refuse_subset(True, 1)
    reference = next(root.iter(etree.Entity), None)
    if reference is not None:
        raise ParseError(
            f"the XML document refers to entity {reference.text} that only a DTD could define; ordergate "
            "never loads DTDs",
            code=ENTITY_REFUSED,
            position=reference.sourceline,
        )


def _malformed(error: etree.XMLSyntaxError) -> ParseError:
    line, column = error.position if error.position else (error.lineno, 0)
    reason = _LOCATION_SUFFIX.sub("", (error.msg or "not well-formed").strip())
    return ParseError(
        f"the XML is not well-formed at line {line}, column {column}: {reason}",
        code=MALFORMED,
        position=line,
    )
