"""JSON bytes → records: the whole document parsed (bounded), then split into one record per order.

Parsed with the standard library's `json` because it can hand every JSON number to `Decimal`
(`parse_float`), so no amount ever passes through a binary float; faster parsers (orjson) cannot. The
size bound protects memory: parsed JSON takes several times its size as Python objects.

Envelopes recognised while splitting: a top-level list (a REST page: WooCommerce `GET /orders`, or a
list of archived Amazon documents) and an object with a single key holding an object or a list
(Shopify REST `{"order": …}`, `{"orders": […]}`, `{"fulfillment": …}`; a bare Amazon `{"payload": …}`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NoReturn

from gateway.core.errors import ParseError
from mappings.base import Source, iter_chunks
from mappings.marketplace.base import Record
from mappings.marketplace.fields import join_path, kind

MAX_JSON_BYTES = 32 << 20
_BOM = b"\xef\xbb\xbf"


def read_bytes(source: Source, limit: int = MAX_JSON_BYTES) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in iter_chunks(source):
        size += len(chunk)
        if size > limit:
            raise ParseError(
                f"the JSON document is larger than {limit} bytes, the most ordergate parses as one "
                "document; split REST pages into smaller ones",
                code="JSON_TOO_LARGE",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> NoReturn:
    raise ParseError(f"the JSON holds {name}, which is not a JSON value (RFC 8259)", code="JSON_SYNTAX")


def load(source: Source, limit: int = MAX_JSON_BYTES) -> Any:
    """The parsed document; `ParseError` with the line (as `position`) and column for malformed JSON."""
    data = read_bytes(source, limit).removeprefix(_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
        raise ParseError(
            f"the JSON is not UTF-8 (RFC 8259): byte 0x{data[bad.start]:02x} at offset {bad.start}, line {line}",
            code="JSON_ENCODING",
            position=line,
        ) from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as bad:
        raise ParseError(
            f"the JSON is malformed: {bad.msg} at line {bad.lineno}, column {bad.colno}",
            code="JSON_SYNTAX",
            position=bad.lineno,
        ) from None
    except RecursionError:
        raise ParseError("the JSON is nested too deeply to be an order", code="JSON_SYNTAX") from None
    except ValueError as bad:  # e.g. an integer longer than Python converts (sys.int_info)
        raise ParseError(f"the JSON holds a value ordergate cannot read: {bad}", code="JSON_SYNTAX") from None


def records(document: Any) -> list[Record]:
    """The objects of a document that should each be one order, with their paths."""
    if isinstance(document, list):
        return _items(document, "", None)
    if not isinstance(document, dict):
        raise ParseError(
            f"the JSON document is {kind(document)}, not an order object or a list of orders",
            code="JSON_NOT_OBJECT",
            element="$",
        )
    if len(document) == 1:
        key, value = next(iter(document.items()))
        if isinstance(value, dict):
            return [Record(value, key, key, 1)]
        if isinstance(value, list):
            return _items(value, key, key)
    return [Record(document, "", None, 1)]


def _items(values: list[Any], path: str, wrapper: str | None) -> list[Record]:
    if not values:
        raise ParseError(
            f"the JSON list {path or '$'} is empty: the document holds no orders",
            code="JSON_NO_ORDERS",
            element=path or "$",
        )
    found = []
    for index, value in enumerate(values):
        item_path = join_path(path, index)
        if not isinstance(value, dict):
            raise ParseError(
                f"{item_path} is {kind(value)}, not an order object",
                code="JSON_NOT_OBJECT",
                position=index + 1,
                element=item_path,
            )
        found.append(Record(value, item_path, wrapper, index + 1))
    return found


__all__ = ["MAX_JSON_BYTES", "load", "read_bytes", "records"]
