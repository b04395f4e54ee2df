"""The ordergate e-mail order template: a small order typed as plain text (in an e-mail's body).

For partners without EDI who order by e-mail: the text is an order when its first non-blank line is
`ORDERGATE ORDER`. Then `Field: value` lines, then a table with `|` between cells:

    ORDERGATE ORDER
    Order: 4711
    Buyer: 4012345000009
    Date: 2026-12-01
    Delivery date: 2026-12-05
    Currency: EUR
    Ship to: Acme Store 12, Main Street 1, 12345 Berlin, DE
    Note: ring at the back door

    SKU     | Qty | Unit | Price | Description
    ABC-100 | 10  | PCE  | 1.25  | Blue pens
    ABC-200 | 2,5 | KGM  |       | Paper clips
    END

Fields (names ignore case, spaces, `_` and `-`): `Order` (required: the order number, also the
interchange's control reference), `Buyer` (required: the buyer id the partner is registered with; a
13-digit GLN with a valid check digit is matched as a GLN), `Buyer name`, `Supplier` (our id at the
buyer), `Date` and `Delivery date` (YYYY-MM-DD), `Currency` (ISO 4217), `Ship to` (comma-separated: the
name, then address lines as written), `Ship to id`, `Note` (repeatable).

Table columns: `SKU` (our article number) and/or `GTIN` (check digit verified), `Qty` (required, more
than 0), and optionally `Unit`, `Price` (unit price) and `Description`. Numbers are digits with at most
one `.` or `,` for decimals, no thousands separators. A header line that starts with `|` makes it a
Markdown table (`| a | b |`, with `|---|---|` under the header); otherwise a leading `|` is an empty
first cell. The order ends at `END`, at a signature separator `-- `, or at the first line after
the table that is not a row: a greeting or signature below it is ignored. Blank lines are ignored.

Every problem is an issue naming its line (`position`) and field or column (`element`); a missing
`Order` or `Buyer` is a `ParseError`, since without them there is no interchange to speak of.

lines.py  text → fields, header, rows (shape only)
order.py  → InterchangeHeader and one MessageOutcome with the canonical order
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from gateway.core.errors import ParseError
from mappings.base import Event, Source
from mappings.mailtext.lines import MARKER, is_marker, read_template
from mappings.mailtext.order import FORMAT_NAME, envelope, outcome

MAX_TEMPLATE_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"


class MailTextFormat:
    name: ClassVar[str] = FORMAT_NAME
    label: ClassVar[str] = "ordergate e-mail order template (plain text)"

    def sniff(self, head: bytes) -> bool:
        """True when the first non-blank line is `ORDERGATE ORDER` (any case)."""
        first = head.removeprefix(_BOM).lstrip(b" \t\r\n").split(b"\n", 1)[0]
        return is_marker(first.decode("utf-8", "replace"))

    def read(self, source: Source) -> Iterator[Event]:
        data = source if isinstance(source, bytes) else source.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise ParseError(
                f"the text is larger than {MAX_TEMPLATE_BYTES} bytes, far more than a typed order",
                code="MAILTEXT_TOO_LARGE",
            )
        try:
            text = data.removeprefix(_BOM).decode("utf-8")
        except UnicodeDecodeError as bad:
            line = data[: bad.start].count(b"\n") + 1
            raise ParseError(
                f"the text is not UTF-8: byte 0x{data[bad.start]:02x} on line {line}",
                code="MAILTEXT_ENCODING",
                position=line,
            ) from None
        template = read_template(text)
        if template is None:
            raise ParseError(f"the text does not start with the line {MARKER}", code="MAILTEXT_NOT_TEMPLATE")
        header = envelope(template)
        yield header
        yield outcome(template, header)


FORMAT = MailTextFormat()

__all__ = ["FORMAT", "MARKER", "MailTextFormat"]
