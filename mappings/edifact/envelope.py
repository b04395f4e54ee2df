"""The interchange envelope: UNB … [UNG … UNE] … UNZ around UNH … UNT messages, checked as it streams.

Only one message's segments are held at a time. Envelope problems raise `ParseError` and reject the whole
interchange (RELIABILITY.md: a broken envelope rejects the whole level, no orders from a partly parsed
interchange): a missing UNB/UNZ/UNE/UNT, UNZ or UNE counts and references that don't match, segments
where no segment may be. A UNT whose count or reference is wrong is a message-level problem: the message
boundaries are still certain (UNH … UNT), so the issue goes into that message's errors and only that
message is refused; its neighbours are unaffected.

A "missing" error names the missing segment (`segment="UNZ"`) at the position where it was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import Issue, ParseError
from mappings.base import Event, InterchangeHeader, MessageOutcome, Source
from mappings.edifact import codes
from mappings.edifact.content import valid_tag
from mappings.edifact.messages import translate
from mappings.edifact.tokenizer import WINDOW, Element, Segment, Tokenizer
from mappings.edifact.values import comp

_ENVELOPE = frozenset({"UNB", "UNG", "UNE", "UNH", "UNT", "UNZ"})


@dataclass(slots=True)
class _Group:
    ref: str
    message_group: str  # UNG 0038
    version: str  # UNG S008 "D:96A"
    position: int
    messages: int = 0


def read_interchange(source: Source, *, chunk_size: int = WINDOW) -> Iterator[Event]:
    """Events of one interchange: its `InterchangeHeader`, then one `MessageOutcome` per message."""
    tokenizer = Tokenizer(source, chunk_size=chunk_size)
    segments = iter(tokenizer)
    first = next(segments, None)
    if first is None or first[0] != "UNB":
        raise ParseError(
            "the document does not start with UNA or UNB: it is not an EDIFACT interchange",
            code=codes.NOT_INTERCHANGE,
            position=1,
        )
    unb = first[1]
    header = _header(unb)
    yield header
    base_source: dict[str, Any] = {
        "format": "edifact",
        "sender_id": header.sender_id,
        "sender_qualifier": header.sender_qualifier,
        "receiver_id": header.receiver_id,
        "receiver_qualifier": header.receiver_qualifier,
        "interchange_control_ref": header.control_ref,
        "test": header.test,
    }
    pending_notes: list[Issue] = []
    if not tokenizer.charset.known:
        pending_notes.append(
            Issue(
                code=codes.SYNTAX_UNKNOWN,
                message=f"syntax identifier {tokenizer.syntax_id!r} in UNB is not one ordergate knows; "
                "the interchange was read as UTF-8",
                segment="UNB",
                position=1,
                element="0001",
                severity="warning",
            )
        )

    body: list[Segment] | None = None  # the open message's segments between UNH and UNT
    unh: Segment = first
    group: _Group | None = None
    grouped: bool | None = None  # all messages in UNG groups, or none: ISO 9735 forbids mixing
    message_count = 0
    group_count = 0

    try:
        for segment in segments:
            tag = segment[0]
            if body is not None:
                if tag not in _ENVELOPE:
                    body.append(segment)
                elif tag == "UNT":
                    if tokenizer.notes:
                        pending_notes.extend(tokenizer.notes)
                        tokenizer.notes.clear()
                    yield _message(unh, body, segment, message_count, group, base_source, pending_notes)
                    pending_notes = []
                    body = None
                else:
                    raise ParseError(
                        f"message {message_count} (UNH at position {unh[2]}, reference {comp(unh[1], 0)!r}) has no "
                        f"UNT trailer: segment {tag} at position {segment[2]} comes before it",
                        code=codes.UNT_MISSING,
                        segment="UNT",
                        position=segment[2],
                    )
                continue

            position = segment[2]
            if tag == "UNH":
                if grouped is None:
                    grouped = group is not None
                if grouped and group is None:
                    raise _misplaced(
                        "UNH", position, "messages must be all inside UNG groups or none: this one is not"
                    )
                body = []
                unh = segment
                message_count += 1
                if group is not None:
                    group.messages += 1
            elif tag == "UNG":
                if group is not None:
                    raise _missing_une(group, "UNG", position)
                if grouped is False:
                    raise _misplaced(
                        "UNG",
                        position,
                        "messages must be all inside UNG groups or none: earlier ones are not",
                    )
                grouped = True
                group_count += 1
                group = _Group(comp(segment[1], 4), comp(segment[1], 0), _version(segment[1], 6), position)
            elif tag == "UNE":
                if group is None:
                    raise _misplaced("UNE", position, "UNE closes no functional group (no UNG before it)")
                _check_une(segment, group)
                group = None
            elif tag == "UNZ":
                if group is not None:
                    raise _missing_une(group, "UNZ", position)
                _check_unz(
                    segment, header.control_ref, group_count if grouped else message_count, bool(grouped)
                )
                try:
                    extra = next(segments, None)
                except ParseError as error:
                    if error.code != codes.SEGMENT_UNTERMINATED:
                        raise
                    extra = (error.segment or "", [], error.position or 0)
                if extra is not None:
                    raise ParseError(
                        f"segment {extra[0][:3]} at position {extra[2]} follows the UNZ trailer: a document holds one "
                        "interchange, and nothing may come after UNZ",
                        code=codes.DATA_AFTER_UNZ,
                        segment=extra[0][:3] or None,
                        position=extra[2],
                    )
                return
            elif tag in ("UNT", "UNB"):
                what = (
                    "UNT closes no message (no UNH before it)"
                    if tag == "UNT"
                    else "a second UNB inside the interchange"
                )
                raise _misplaced(tag, position, what)
            elif not valid_tag(tag):
                raise ParseError(
                    f"segment at position {position} has no valid tag ({tag[:10]!r}) and lies outside any message",
                    code=codes.SEGMENT_TAG,
                    segment=tag[:3] or None,
                    position=position,
                )
            else:
                raise ParseError(
                    f"segment {tag} at position {position} lies outside any message (between UNT and UNH)",
                    code=codes.SEGMENT_OUTSIDE_MESSAGE,
                    segment=tag,
                    position=position,
                )

    except ParseError as error:
        if error.code != codes.SEGMENT_UNTERMINATED or error.segment == "UNZ":
            raise
        # cut inside a segment: a truncated interchange, named by the UNZ it lacks
        raise _unz_missing(
            error.position or tokenizer.position, body, unh, message_count, group, inside=error.segment
        ) from error
    raise _unz_missing(tokenizer.position + 1, body, unh, message_count, group)


def _unz_missing(
    position: int,
    body: list[Segment] | None,
    unh: Segment,
    message_count: int,
    group: _Group | None,
    inside: str | None = None,
) -> ParseError:
    """The interchange ended before UNZ (at `position`, where UNZ was expected): probably truncated."""
    end = (
        f"ends inside segment {inside or '?'} at position {position}"
        if inside
        else f"ends after segment {position - 1}"
    )
    if body is not None:
        where = f"inside message {message_count} (UNH at position {unh[2]}), without UNT or UNZ"
    elif group is not None:
        where = f"inside the functional group opened by UNG at position {group.position}, without UNE or UNZ"
    else:
        where = "without its UNZ trailer"
    return ParseError(
        f"the interchange {end} {where}: it is probably truncated",
        code=codes.UNZ_MISSING,
        segment="UNZ",
        position=position,
    )


def _header(unb: list[Element]) -> InterchangeHeader:
    for index, component, element_id, what in (
        (1, 0, "0004", "sender"),
        (2, 0, "0010", "recipient"),
        (4, 0, "0020", "control reference"),
    ):
        if not comp(unb, index, component):
            raise ParseError(
                f"UNB has no interchange {what} (data element {element_id})",
                code=codes.UNB_INVALID,
                segment="UNB",
                position=1,
                element=element_id,
            )
    syntax = ":".join(p for p in (comp(unb, 0), comp(unb, 0, 1)) if p)
    prepared = ":".join(p for p in (comp(unb, 3), comp(unb, 3, 1)) if p)
    return InterchangeHeader(
        format="edifact",
        sender_id=comp(unb, 1),
        sender_qualifier=comp(unb, 1, 1) or None,
        receiver_id=comp(unb, 2),
        receiver_qualifier=comp(unb, 2, 1) or None,
        control_ref=comp(unb, 4),
        syntax=syntax or None,
        prepared_at=prepared or None,
        test=comp(unb, 10) == "1",
        ack_requested=comp(unb, 8) == "1",
    )


def _version(elements: list[Element], index: int) -> str:
    return ":".join(comp(elements, index, i) for i in range(2))


def _message(
    unh: Segment,
    body: list[Segment],
    unt: Segment,
    number: int,
    group: _Group | None,
    base_source: dict[str, Any],
    notes: list[Issue],
) -> MessageOutcome:
    """Check UNH/UNT, then hand the message to its translator."""
    head = unh[1]
    ref = comp(head, 0)
    s009 = [comp(head, 1, i) for i in range(5)]
    message_type = s009[0]
    while s009 and not s009[-1]:
        s009.pop()
    outcome = MessageOutcome(
        message_type=message_type,
        message_ref=ref,
        version=":".join(s009[1:]) or None,
        position=unh[2],
        group_ref=group.ref if group is not None else None,
    )
    errors = outcome.errors
    if not ref or not message_type:
        missing = "message reference (0062)" if not ref else "message type (S009 0065)"
        errors.append(
            Issue(
                code=codes.UNH_INVALID,
                message=f"UNH at position {unh[2]} (message {number}) has no {missing}",
                segment="UNH",
                position=unh[2],
                element="0062" if not ref else "0065",
            )
        )
    declared, unt_ref = comp(unt[1], 0), comp(unt[1], 1)
    actual = len(body) + 2
    if not declared.isdigit() or int(declared) != actual:
        errors.append(
            Issue(
                code=codes.UNT_COUNT,
                message=f"UNT segment count {declared or '(empty)'} does not match the {actual} segments from UNH "
                f"to UNT in message {number}",
                segment="UNT",
                position=unt[2],
                element="0074",
            )
        )
    if unt_ref != ref:
        errors.append(
            Issue(
                code=codes.UNT_REF,
                message=f"UNT message reference {unt_ref!r} does not match UNH message reference {ref!r} "
                f"in message {number}",
                segment="UNT",
                position=unt[2],
                element="0062",
            )
        )
    if group is not None:
        _check_group_agreement(outcome, group, s009)
    outcome.warnings.extend(notes)
    translate(outcome, body, base_source)
    return outcome


def _check_group_agreement(outcome: MessageOutcome, group: _Group, s009: list[str]) -> None:
    """UNG names the message type and version its messages carry; a difference is worth a warning."""
    message_version = ":".join(s009[1:3])
    problems = []
    if group.message_group and group.message_group != outcome.message_type:
        problems.append(f"type {outcome.message_type} but UNG {group.message_group}")
    if group.version.strip(":") and group.version != message_version:
        problems.append(f"version {message_version} but UNG {group.version}")
    if problems:
        outcome.warnings.append(
            Issue(
                code=codes.GROUP_MISMATCH,
                message=f"message {outcome.message_ref!r} says {' and '.join(problems)} (UNG at position "
                f"{group.position})",
                segment="UNH",
                position=outcome.position,
                severity="warning",
            )
        )


def _check_une(une: Segment, group: _Group) -> None:
    declared, ref = comp(une[1], 0), comp(une[1], 1)
    if not declared.isdigit() or int(declared) != group.messages:
        raise ParseError(
            f"UNE message count {declared or '(empty)'} does not match the {group.messages} messages in the "
            f"functional group {group.ref!r} (UNG at position {group.position})",
            code=codes.UNE_COUNT,
            segment="UNE",
            position=une[2],
            element="0060",
        )
    if ref != group.ref:
        raise ParseError(
            f"UNE group reference {ref!r} does not match UNG group reference {group.ref!r}",
            code=codes.UNE_REF,
            segment="UNE",
            position=une[2],
            element="0048",
        )


def _check_unz(unz: Segment, control_ref: str, actual: int, grouped: bool) -> None:
    declared, ref = comp(unz[1], 0), comp(unz[1], 1)
    what = "functional groups" if grouped else "messages"
    if not declared.isdigit() or int(declared) != actual:
        raise ParseError(
            f"UNZ count {declared or '(empty)'} does not match the {actual} {what} in the interchange",
            code=codes.UNZ_COUNT,
            segment="UNZ",
            position=unz[2],
            element="0036",
        )
    if ref != control_ref:
        raise ParseError(
            f"UNZ interchange reference {ref!r} does not match UNB interchange reference {control_ref!r}",
            code=codes.UNZ_REF,
            segment="UNZ",
            position=unz[2],
            element="0020",
        )


def _missing_une(group: _Group, found: str, position: int) -> ParseError:
    return ParseError(
        f"the functional group {group.ref!r} (UNG at position {group.position}) has no UNE trailer: segment "
        f"{found} at position {position} comes before it",
        code=codes.UNE_MISSING,
        segment="UNE",
        position=position,
    )


def _misplaced(tag: str, position: int, why: str) -> ParseError:
    return ParseError(
        f"{tag} at position {position}: {why}", code=codes.SEGMENT_MISPLACED, segment=tag, position=position
    )
