"""The ISA header: the one fixed-width segment, and the place where X12 declares its own separators.

The element separator is the character right after "ISA"; the component separator is ISA16 and the
segment terminator is the character after it. The standard fixes the ISA at 106 characters, but senders
pad ISA06/ISA08 wrongly often enough that reading by position would reject good interchanges. So the
ISA is read by its separators: padding mistakes in the multi-character elements are unambiguous and
only warned about; a one-character element that is not one character (ISA11, ISA14, ISA15) means the
separators cannot be trusted, and that is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.core.errors import Issue, ParseError

ISA_LENGTH = 106
"""Characters in a standard ISA, terminator included."""

WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
"""Fixed widths of ISA01..ISA15 (ISA16 is the component separator itself)."""

_SINGLE_CHARACTER = (11, 14, 15)
_MAX_SCAN = 512  # characters searched for the 16 element separators before giving up
_VERSION = re.compile(r"00[2-9][0-9][0-9]")
REPETITION_FROM = 402
"""ISA11 is the repetition separator from interchange control version 00402 on ("U" before)."""


@dataclass(frozen=True, slots=True)
class Separators:
    """The delimiters of one interchange. `suffix` is only written (e.g. a newline after `~`)."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class IsaHeader:
    fields: list[str]  # "ISA", ISA01 … ISA16, as sent (padding kept)
    separators: Separators
    length: int  # characters the ISA took, terminator included
    warnings: tuple[Issue, ...]


def _error(code: str, message: str, element: str | None = None) -> ParseError:
    return ParseError(message, code=code, segment="ISA", position=1, element=element)


def _shown(char: str) -> str:
    return repr(char) if char.isprintable() and char != " " else ascii(char)


def parse_isa(text: str, *, final: bool) -> IsaHeader | None:
    """Read the ISA at the start of `text`; None when more text is needed and more may come."""
    if len(text) < 4:
        if final:
            raise _error("X12_ISA_LENGTH", "the document ends inside the ISA segment (it is 106 characters)")
        return None
    element = text[3]
    if element.isalnum() or element.isspace():
        raise _error(
            "X12_ISA_SEPARATORS",
            f"the character after ISA must be the element separator, a special character; found {_shown(element)}",
        )
    ends = [3]
    for _ in range(15):
        found = text.find(element, ends[-1] + 1, _MAX_SCAN)
        if found < 0:
            if len(text) < _MAX_SCAN and not final:
                return None
            where = "the document ends" if len(text) < _MAX_SCAN else f"the first {_MAX_SCAN} characters end"
            raise _error(
                "X12_ISA_LENGTH",
                f"the ISA segment is incomplete: {where} after {len(ends)} of its 16 element separators",
            )
        ends.append(found)
    last = ends[-1]
    if len(text) < last + 3:
        if not final:
            return None
        raise _error(
            "X12_ISA_LENGTH", "the document ends inside the ISA segment, before its segment terminator"
        )
    component, terminator = text[last + 1], text[last + 2]
    values = text[4:last].split(element)
    fields = ["ISA", *values, component]
    _check_single_characters(fields)
    if component.isalnum() or component.isspace():
        raise _error(
            "X12_ISA_SEPARATORS",
            f"ISA16, the component separator, must be a special character; found {_shown(component)}",
            "ISA16",
        )
    if terminator.isalnum() or terminator == " ":
        raise _error(
            "X12_ISA_SEPARATORS",
            f"ISA16 must be one character followed by the segment terminator; found {_shown(component + terminator)}"
            " (a missing terminator, or an ISA16 longer than one character)",
            "ISA16",
        )
    if len({element, component, terminator}) < 3:
        raise _error(
            "X12_ISA_SEPARATORS",
            f"the element separator {_shown(element)}, component separator {_shown(component)} and segment "
            f"terminator {_shown(terminator)} must all differ",
        )
    version = fields[12]
    repetition = _repetition(fields[11], version, {element, component, terminator})
    warnings = _width_warnings(fields, last + 3)
    if not _VERSION.fullmatch(version):
        warnings.append(
            Issue(
                code="X12_ISA_VERSION",
                message=f"ISA12 {version!r} is not an interchange control version (such as 00401 or 00501); "
                "the version of each group is read from GS08",
                segment="ISA",
                position=1,
                element="ISA12",
                severity="warning",
            )
        )
    return IsaHeader(
        fields=fields,
        separators=Separators(element, component, terminator, repetition),
        length=last + 3,
        warnings=tuple(warnings),
    )


def _check_single_characters(fields: list[str]) -> None:
    for index in _SINGLE_CHARACTER:
        if len(fields[index]) != 1:
            raise _error(
                "X12_ISA_LENGTH",
                f"ISA{index:02d} must be exactly one character but is {fields[index]!r}; the ISA's padding "
                "is too far off to trust its separators",
                f"ISA{index:02d}",
            )


def _repetition(isa11: str, version: str, taken: set[str]) -> str | None:
    if (
        not (_VERSION.fullmatch(version) and int(version) >= REPETITION_FROM)
        or isa11.isalnum()
        or isa11.isspace()
    ):
        return None
    if isa11 in taken:
        raise _error(
            "X12_ISA_SEPARATORS",
            f"ISA11, the repetition separator, is {_shown(isa11)}, which is already another separator",
            "ISA11",
        )
    return isa11


def _width_warnings(fields: list[str], length: int) -> list[Issue]:
    wrong = [
        f"ISA{index:02d} has {len(fields[index])} characters instead of {width}"
        for index, width in enumerate(WIDTHS, start=1)
        if len(fields[index]) != width
    ]
    if not wrong:
        return []
    return [
        Issue(
            code="X12_ISA_LENGTH",
            message=f"the ISA is {length} characters instead of {ISA_LENGTH} ({'; '.join(wrong)}); "
            "it was read by its separators",
            segment="ISA",
            position=1,
            severity="warning",
        )
    ]
