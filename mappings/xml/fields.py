"""Typed values out of an XML message, and the issues met reading them, each placed by path and line.

Shared by the XML formats so that a missing order number or an unreadable quantity is reported the same
way in UBL and cXML: `segment` is the path of the element concerned, `element` the child or attribute
that is missing or wrong, `position` the source line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

from lxml import etree

from gateway.core.errors import Issue, Severity
from mappings.xml.paths import line_of, path_of

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:?\d{2})?")


class Fields:
    """Reads one message; `standard` ("UBL", "CXML") prefixes the issue codes."""

    def __init__(self, standard: str, namespaces: Mapping[str, str] | None = None) -> None:
        self.standard = standard
        self.namespaces = dict(namespaces or {})
        self._paths: dict[str, str] = {}
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    # -- issues ----------------------------------------------------------------------------------------

    def issue(
        self,
        code: str,
        message: str,
        at: etree._Element,
        element: str | None = None,
        severity: Severity = "error",
    ) -> None:
        found = Issue(
            code=f"{self.standard}_{code}",
            message=message,
            segment=path_of(at),
            position=line_of(at),
            element=element,
            severity=severity,
        )
        target = self.errors if severity == "error" else self.warnings
        if found not in target:  # a value read twice (an amount and its total) is reported once
            target.append(found)

    # -- lookup ----------------------------------------------------------------------------------------

    def find(self, parent: etree._Element | None, path: str) -> etree._Element | None:
        return None if parent is None else parent.find(self._clark(path))

    def findall(self, parent: etree._Element | None, path: str) -> list[etree._Element]:
        return [] if parent is None else parent.findall(self._clark(path))

    def _clark(self, path: str) -> str:
        """The path in Clark notation ({namespace}Name steps), computed once per path: lxml finds those
        faster than prefixed paths with a namespace map."""
        found = self._paths.get(path)
        if found is None:
            steps = (step.partition(":") for step in path.split("/"))
            found = "/".join(f"{{{self.namespaces[p]}}}{name}" if name else p for p, _, name in steps)
            self._paths[path] = found
        return found

    def text(self, parent: etree._Element | None, path: str | None = None) -> str | None:
        """Stripped text of `parent` (or of its first `path` match); None when absent or blank."""
        element = parent if path is None else self.find(parent, path)
        if element is None:
            return None
        value = (element.text or "") if len(element) == 0 else "".join(element.itertext())
        value = value.strip()
        return value or None

    def require(self, parent: etree._Element, path: str, what: str) -> str | None:
        value = self.text(parent, path)
        if value is None:
            self.issue("REQUIRED_MISSING", f"{what} is missing: {path} is absent or empty", parent, path)
        return value

    # -- values ----------------------------------------------------------------------------------------

    def number(
        self, raw: str | None, what: str, at: etree._Element, element: str | None = None
    ) -> Decimal | None:
        """A decimal as XML Schema writes it (no exponent, no thousands separator); None when absent."""
        if raw is None or not raw.strip():
            return None
        value = raw.strip()
        if not _DECIMAL.fullmatch(value):
            self.issue("NUMBER", f"{what} {raw!r} is not a number", at, element)
            return None
        return Decimal(value)

    def number_at(self, parent: etree._Element | None, path: str, what: str) -> Decimal | None:
        element = self.find(parent, path)
        if element is None:
            return None
        return self.number(self.text(element), what, element)

    def date(
        self, raw: str | None, what: str, at: etree._Element, element: str | None = None
    ) -> dt.date | None:
        """The calendar date as the sender wrote it; a time and zone offset after it are ignored."""
        if raw is None or not raw.strip():
            return None
        found = _DATE.fullmatch(raw.strip())
        try:
            if found is None:
                raise ValueError(raw)
            return dt.date.fromisoformat(found.group(1))
        except ValueError:
            self.issue("DATE", f"{what} {raw!r} is not a date (YYYY-MM-DD)", at, element)
            return None

    def date_at(self, parent: etree._Element | None, path: str, what: str) -> dt.date | None:
        element = self.find(parent, path)
        if element is None:
            return None
        return self.date(self.text(element), what, element)
