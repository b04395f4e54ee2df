"""JSON from the marketplaces in, one order's document out.

Numbers are read as `Decimal` and written back with every digit they had (`10.00` stays `10.00`, no
binary float in between), so an archived order holds the marketplace's own figures, and the same
order read twice becomes the same bytes: the archive recognises the repeat by its hash. The standard library's `json` cannot write
a `Decimal` as a number, hence the small writer here; strings still go through `json.dumps`.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, NoReturn


class JsonRefused(ValueError):
    """The bytes are not JSON (the message says where); the caller words it for its service."""


def _refuse_constant(name: str) -> NoReturn:
    raise JsonRefused(f"{name} is not a JSON value")


def loads(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise JsonRefused(f"not UTF-8 (byte 0x{data[bad.start]:02x} at offset {bad.start})") from None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as bad:
        raise JsonRefused(f"{bad.msg} at line {bad.lineno}, column {bad.colno}") from None
    except RecursionError:
        raise JsonRefused("nested too deeply") from None
    except ValueError as bad:  # an integer longer than Python converts
        raise JsonRefused(str(bad)) from None


def dumps(value: Any) -> bytes:
    """Compact JSON in UTF-8, keys in the order received."""
    parts: list[str] = []
    _write(value, parts, False)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an escaped half pair) cannot be UTF-8: escape all
        parts = []
        _write(value, parts, True)
        return "".join(parts).encode("ascii")


def _write(value: Any, out: list[str], ascii_only: bool) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=ascii_only))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
        out.append(repr(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=ascii_only))
            out.append(":")
            _write(item, out, ascii_only)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, ascii_only)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


__all__ = ["JsonRefused", "dumps", "loads"]
