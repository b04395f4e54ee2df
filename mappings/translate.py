"""Translate a whole document: detect its format, read every interchange, judge the result.

Pure: bytes in, a `Translation` out, nothing stored. A pipeline stage, the CLI and the API all call
`translate`. A document is accepted when it yields at least one order and no errors; anything else is
rejected with the issues that explain why (an envelope error rejects everything it encloses).

A caller that knows the format (a partner's flat-file mapping, which no sniffer can recognise) passes
it, and detection is skipped; the source is then handed to the format as is, so a stream stays a stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gateway.core.canonical import Order
from gateway.core.errors import GatewayError, Issue
from mappings.base import Format, InterchangeHeader, MessageOutcome, Source
from mappings.registry import detect
from mappings.sniff import describe_unrecognised


@dataclass(slots=True)
class InterchangeResult:
    header: InterchangeHeader
    messages: list[MessageOutcome] = field(default_factory=list)


@dataclass(slots=True)
class Translation:
    format: str | None
    interchanges: list[InterchangeResult] = field(default_factory=list)
    document_errors: list[Issue] = field(default_factory=list)

    @property
    def orders(self) -> list[Order]:
        """The orders of an accepted document; none at all when anything in it was rejected."""
        return self._candidate_orders() if not self.errors else []

    def _candidate_orders(self) -> list[Order]:
        return [m.order for i in self.interchanges for m in i.messages if m.order is not None]

    @property
    def errors(self) -> list[Issue]:
        found = list(self.document_errors)
        for interchange in self.interchanges:
            for message in interchange.messages:
                found.extend(message.errors)
        if not found and not self._candidate_orders():
            found.extend(self._why_no_orders())
        return found

    @property
    def warnings(self) -> list[Issue]:
        return [w for i in self.interchanges for m in i.messages for w in m.warnings]

    @property
    def status(self) -> Literal["accepted", "rejected"]:
        return "accepted" if self.orders else "rejected"

    @property
    def message_types(self) -> list[str]:
        return sorted({m.message_type for i in self.interchanges for m in i.messages})

    def _not_an_order(self, message: MessageOutcome) -> Issue:
        named = next((w for w in message.warnings if w.code == "UNSUPPORTED_MESSAGE"), None)
        return Issue(
            code="NOT_AN_ORDER",
            message=named.message if named else f"{message.message_type} is not an order",
            segment=(named.segment if named else None) or ("UNH" if self.format == "edifact" else "ST"),
            position=named.position if named and named.position is not None else message.position,
        )

    def _why_no_orders(self) -> list[Issue]:
        unsupported = [m for i in self.interchanges for m in i.messages if not m.supported]
        if unsupported:
            # The format's warning already names the type in plain words and where it starts.
            return [self._not_an_order(m) for m in unsupported]
        return [Issue(code="NO_MESSAGES", message="the interchange contains no messages")]


def translate(source: Source, format: Format | None = None) -> Translation:
    """Translate with the given format, or with the one detected from the first bytes."""
    if format is not None:
        return _read(format, source)
    data = source if isinstance(source, bytes) else source.read()
    fmt = detect(data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n"))
    if fmt is None:
        return Translation(format=None, document_errors=[describe_unrecognised(data)])
    return _read(fmt, data)


def _read(fmt: Format, source: Source) -> Translation:
    translation = Translation(format=fmt.name)
    try:
        for event in fmt.read(source):
            if isinstance(event, InterchangeHeader):
                translation.interchanges.append(InterchangeResult(header=event))
            elif translation.interchanges:
                translation.interchanges[-1].messages.append(event)
    except GatewayError as error:
        translation.document_errors.append(error.to_issue())
    return translation
