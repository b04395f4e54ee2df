"""What the XML formats (UBL, cXML) share: safe parsing, root sniffing, located values.

prolog.py  the bytes before the root element: DOCTYPE and its internal subset, where the root starts
safe.py    parse with no DTD, no entities, no network, a size limit (why lxml and not defusedxml: there)
head.py    the root element from the first bytes, for sniffing
paths.py   "/Order/cac:OrderLine[2]/cac:LineItem" and the source line of an element
fields.py  typed values (text, decimals, dates) and the issues met reading them
outcome.py not an order, or mapped and checked: the end of every message

In every XML issue `position` is a 1-based source line (libxml2's: where an element's start tag ends),
`segment` the path of the element concerned and `element` the child or attribute at fault. Codes:
XML_TOO_LARGE, XML_EMPTY, XML_MALFORMED, XML_ENTITY_REFUSED, XML_DTD_REFUSED refuse the whole document
(ParseError); <STANDARD>_REQUIRED_MISSING, _QUANTITY_MISSING, _NUMBER, _DATE (errors) and
_LINE_NUMBER_MISSING (warning), with STANDARD = UBL or CXML, concern one message.
"""

from __future__ import annotations

from mappings.xml.fields import Fields
from mappings.xml.head import Root, doctype_of, root_of, unrecognised_xml
from mappings.xml.paths import line_of, path_of
from mappings.xml.safe import DEFAULT_MAX_BYTES, parse, read_limited

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Fields",
    "Root",
    "doctype_of",
    "line_of",
    "parse",
    "path_of",
    "read_limited",
    "root_of",
    "unrecognised_xml",
]
