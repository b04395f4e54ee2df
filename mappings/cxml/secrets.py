"""Keep the Sender's SharedSecret (a cXML network password) out of every message ordergate writes.

The mapping never reads it, so no order, header or issue can contain it. What is left is a parser
message about bytes near it: an error located inside a SharedSecret element keeps its code and line but
loses its details, and so does any message that happens to quote a secret's value.
"""

from __future__ import annotations

import re

from gateway.core.errors import ParseError

_SECRET = re.compile(rb"<SharedSecret\b[^>]*>(.*?)(?:</SharedSecret\s*>|$)", re.DOTALL)


def without_secrets(error: ParseError, data: bytes) -> ParseError:
    """`error` as is when it says nothing about a SharedSecret, else a copy that cannot disclose it."""
    for found in _SECRET.finditer(data):
        first = data.count(b"\n", 0, found.start()) + 1
        last = first + found.group(0).count(b"\n")
        value = found.group(1).decode("utf-8", errors="replace").strip()
        inside = error.position is not None and first <= error.position <= last
        if inside or (value and value in error.message):
            return ParseError(
                f"the document cannot be read near line {error.position} ({error.code}); details are "
                "withheld because they concern the Sender's SharedSecret",
                code=error.code,
                segment=error.segment,
                position=error.position,
                element=error.element,
            )
    return error
