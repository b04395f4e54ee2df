"""Typed reads from a parsed JSON order, each problem an `Issue` that names its JSON path.

Marketplace payloads are loosely typed (ids as numbers or strings, money as strings, flags as booleans
or "true"), so every read goes through one of these accessors: they accept the spellings the
marketplaces use, and turn anything else into an error naming the path (`line_items[2].quantity`,
0-based indexes as in jq) instead of raising. JSON `null` and an empty string count as absent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.core.errors import Issue

FIELD_MISSING = "JSON_FIELD_MISSING"
FIELD_TYPE = "JSON_FIELD_TYPE"
FIELD_VALUE = "JSON_FIELD_VALUE"


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Sink:
    """The issues found in one record (one order) of a document; `position` is its 1-based index."""

    def __init__(self, position: int) -> None:
        self.position = position
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, code: str, message: str, path: str) -> None:
        self.errors.append(Issue(code=code, message=message, position=self.position, element=path or "$"))

    def warn(self, code: str, message: str, path: str) -> None:
        self.warnings.append(
            Issue(code=code, message=message, position=self.position, element=path or "$", severity="warning")
        )


class Node:
    """A JSON object at a path. Accessors take the member's key and, for a required member, what it
    holds, for the message ("the order id"); absent optional members read as None."""

    __slots__ = ("path", "sink", "value")

    def __init__(self, value: dict[str, Any], path: str, sink: Sink) -> None:
        self.value = value
        self.path = path
        self.sink = sink

    def has(self, key: str) -> bool:
        return self.value.get(key) not in (None, "")

    def _get(self, key: str, required: str | None) -> Any:
        value = self.value.get(key)
        if value is None or value == "":
            if required:
                path = join_path(self.path, key)
                self.sink.error(FIELD_MISSING, f"{path} is missing ({required})", path)
            return None
        return value

    def _wrong(self, key: str, value: Any, expected: str) -> None:
        path = join_path(self.path, key)
        self.sink.error(FIELD_TYPE, f"{path} is {kind(value)}, expected {expected}", path)

    def text(self, key: str, required: str | None = None) -> str | None:
        """A string; a whole number (marketplace ids) is read as its digits."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self._wrong(key, value, "a string")
        return None

    def number(self, key: str, required: str | None = None) -> Decimal | None:
        """A decimal number, from a JSON number (parsed as Decimal, never float) or a numeric string."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self._wrong(key, value, "a number")
            return None
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            path = join_path(self.path, key)
            self.sink.error(FIELD_VALUE, f"{path} is {value!r}, not a number", path)
            return None
        return number

    def flag(self, key: str) -> bool:
        """A boolean, also as the strings "true"/"false" (Amazon's IsGift); absent is False."""
        value = self._get(key, None)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self._wrong(key, value, "true or false")
        return False

    def date(self, key: str, required: str | None = None) -> dt.date | None:
        """The calendar date of an ISO 8601 date-time, in the offset it was written in (the sender's
        local date, not converted to UTC)."""
        text = self.text(key, required)
        if text is None:
            return None
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            path = join_path(self.path, key)
            self.sink.error(FIELD_VALUE, f"{path} is {text!r}, not an ISO 8601 date-time", path)
            return None

    def obj(self, key: str, required: str | None = None) -> Node | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong(key, value, "an object")
            return None
        return Node(value, join_path(self.path, key), self.sink)

    def objects(self, key: str, required: str | None = None) -> list[Node]:
        """The objects of a list member; a required list must also be non-empty. Elements that are
        not objects are reported and left out."""
        value = self._get(key, required)
        if value is None:
            return []
        path = join_path(self.path, key)
        if not isinstance(value, list):
            self._wrong(key, value, "a list")
            return []
        if not value and required:
            self.sink.error(FIELD_MISSING, f"{path} is an empty list ({required})", path)
        found = []
        for index, item in enumerate(value):
            item_path = join_path(path, index)
            if isinstance(item, dict):
                found.append(Node(item, item_path, self.sink))
            else:
                self.sink.error(FIELD_TYPE, f"{item_path} is {kind(item)}, expected an object", item_path)
        return found


__all__ = ["FIELD_MISSING", "FIELD_TYPE", "FIELD_VALUE", "Node", "Sink", "join_path", "kind"]
