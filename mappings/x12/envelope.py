"""X12 envelopes: ISA/IEA around GS/GE around ST/SE, checked level by level while streaming.

A broken envelope rejects the whole level it encloses. GS/GE and ISA/IEA problems (counts, control
numbers, missing trailers) raise `ParseError`, rejecting the interchange: no orders come out of a partly
read interchange. SE01/SE02 mismatches reject only their transaction set (an error Issue on its
outcome): the SE still frames the set, so its neighbours are unaffected. A missing SE does not frame
anything, so it rejects the interchange.

Each transaction set is collected from ST to SE and translated on its own, so memory is bounded by the
largest set, never by the interchange.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.core.errors import Issue, ParseError
from mappings.base import Event, InterchangeHeader, MessageOutcome, Source
from mappings.x12 import po850, sets
from mappings.x12.context import SetContext, SetReader, issue
from mappings.x12.isa import IsaHeader
from mappings.x12.tokenizer import READ_SIZE, Segment, Tokenizer
from mappings.x12.values import integer

READERS: dict[str, SetReader] = {"850": po850.translate}
"""Transaction sets ordergate translates; every other set is read for its envelope only."""

_ENVELOPE = frozenset({"SE", "ST", "GS", "GE", "IEA", "ISA"})


def read_interchanges(source: Source, chunk_size: int = READ_SIZE) -> Iterator[Event]:
    tokenizer = Tokenizer(source, chunk_size)
    segments = iter(tokenizer)
    for _position, _fields in segments:  # the tokenizer yields an ISA first for every interchange
        assert tokenizer.isa is not None
        yield from _interchange(segments, tokenizer.isa)


def _element(fields: list[str], index: int) -> str:
    return fields[index].strip() if index < len(fields) else ""


def _same_number(sent: str, expected: str) -> bool:
    """Control numbers compare as numbers when both are digits (GS06 "83" = GE02 "0083")."""
    a, b = integer(sent), integer(expected)
    return a == b if a is not None and b is not None else sent == expected


def _count_matches(sent: str, actual: int) -> bool:
    return integer(sent) == actual


def _header(isa: IsaHeader) -> InterchangeHeader:
    f = isa.fields
    return InterchangeHeader(
        format="x12",
        sender_id=f[6].strip(),
        sender_qualifier=f[5].strip() or None,
        receiver_id=f[8].strip(),
        receiver_qualifier=f[7].strip() or None,
        control_ref=f[13].strip(),
        syntax=f[12].strip() or None,
        prepared_at=f"{f[9].strip()}:{f[10].strip()}",
        test=f[15].strip() == "T",
        ack_requested=f[14].strip() == "1",
    )


def _interchange(segments: Iterator[Segment], isa: IsaHeader) -> Iterator[Event]:
    header = _header(isa)
    yield header
    control = header.control_ref
    groups = 0
    for position, fields in segments:
        tag = fields[0]
        if tag == "GS":
            groups += 1
            yield from _group(segments, position, fields, header, isa)
        elif tag == "TA1":
            yield _ta1(position, fields, isa)
        elif tag == "IEA":
            sent, closes = _element(fields, 1), _element(fields, 2)
            if not _count_matches(sent, groups):
                raise ParseError(
                    f"IEA01 says {sent!r} functional groups but interchange {control} has {groups}",
                    code="X12_IEA_COUNT",
                    segment="IEA",
                    position=position,
                    element="IEA01",
                )
            if not _same_number(closes, control):
                raise ParseError(
                    f"IEA02 is {closes!r} but the interchange's ISA13 is {control!r}: the trailer does not "
                    "close this interchange",
                    code="X12_IEA_CONTROL",
                    segment="IEA",
                    position=position,
                    element="IEA02",
                )
            return
        elif tag == "ISA":
            raise _missing_iea(control, position, f"a new ISA starts at segment {position}")
        elif tag == "ST":
            raise ParseError(
                f"transaction set {_element(fields, 2)!r} starts at segment {position} outside a functional "
                "group: there is no GS before its ST",
                code="X12_GS_MISSING",
                segment="ST",
                position=position,
            )
        else:
            raise _unexpected(tag, position, "between functional groups (after ISA or GE)")
    raise _missing_iea(control, None, "the data ends")


def _group(
    segments: Iterator[Segment], gs_position: int, gs: list[str], header: InterchangeHeader, isa: IsaHeader
) -> Iterator[MessageOutcome]:
    group_ref = _element(gs, 6)
    version = _element(gs, 8) or None
    count = 0
    for position, fields in segments:
        tag = fields[0]
        if tag == "ST":
            count += 1
            context = SetContext(
                header=header,
                separators=isa.separators,
                set_type=_element(fields, 1),
                control_ref=_element(fields, 2),
                position=position,
                group_ref=group_ref or None,
                version=version,
            )
            yield _transaction_set(segments, context, isa.warnings)
        elif tag == "GE":
            sent, closes = _element(fields, 1), _element(fields, 2)
            if not _count_matches(sent, count):
                raise ParseError(
                    f"GE01 says {sent!r} transaction sets but functional group {group_ref} (GS at segment "
                    f"{gs_position}) has {count}",
                    code="X12_GE_COUNT",
                    segment="GE",
                    position=position,
                    element="GE01",
                )
            if not _same_number(closes, group_ref):
                raise ParseError(
                    f"GE02 is {closes!r} but the group's GS06 is {group_ref!r}: the trailer does not close "
                    f"the group that starts at segment {gs_position}",
                    code="X12_GE_CONTROL",
                    segment="GE",
                    position=position,
                    element="GE02",
                )
            return
        elif tag in ("GS", "IEA", "ISA"):
            raise ParseError(
                f"functional group {group_ref} (GS at segment {gs_position}) has no GE: {tag} found at "
                f"segment {position}",
                code="X12_GE_MISSING",
                segment=tag,
                position=position,
            )
        else:
            raise _unexpected(tag, position, "outside a transaction set (between GS or SE and ST)")
    raise _missing_iea(header.control_ref, None, f"the data ends inside functional group {group_ref}")


def _transaction_set(
    segments: Iterator[Segment], context: SetContext, interchange_warnings: tuple[Issue, ...]
) -> MessageOutcome:
    body: list[list[str]] = []
    append = body.append
    for position, fields in segments:
        tag = fields[0]
        if tag in _ENVELOPE:
            if tag == "SE":
                break
            raise ParseError(
                f"transaction set {context.control_ref} ({context.set_type}, ST at segment {context.position}) "
                f"has no SE: {tag} found at segment {position}",
                code="X12_SE_MISSING",
                segment=tag,
                position=position,
            )
        append(fields)
    else:
        raise _missing_iea(
            context.header.control_ref,
            None,
            f"the data ends inside transaction set {context.control_ref} (ST at segment {context.position})",
        )
    envelope_errors = _check_se(fields, position, context, len(body) + 2)
    reader = READERS.get(context.set_type)
    outcome = reader(body, context) if reader else _unsupported(context)
    if envelope_errors:
        outcome.errors[:0] = envelope_errors
    if interchange_warnings:
        outcome.warnings[:0] = interchange_warnings
    return outcome


def _check_se(se: list[str], position: int, context: SetContext, actual: int) -> list[Issue]:
    problems = []
    sent, closes = _element(se, 1), _element(se, 2)
    if not _count_matches(sent, actual):
        problems.append(
            issue(
                "X12_SE_COUNT",
                f"SE01 says {sent!r} segments but the transaction set {context.control_ref} has {actual} from ST "
                "to SE",
                "SE",
                position,
                "SE01",
            )
        )
    if closes != context.control_ref:
        problems.append(
            issue(
                "X12_SE_CONTROL",
                f"SE02 is {closes!r} but the set's ST02 is {context.control_ref!r}: the trailer does not close "
                "this transaction set",
                "SE",
                position,
                "SE02",
            )
        )
    return problems


def _unsupported(context: SetContext) -> MessageOutcome:
    return MessageOutcome(
        message_type=context.set_type,
        message_ref=context.control_ref,
        version=context.version,
        position=context.position,
        supported=False,
        warnings=[
            issue(
                "UNSUPPORTED_MESSAGE",
                sets.unsupported_message(context.set_type),
                "ST",
                context.position,
                "ST01",
                warning=True,
            )
        ],
        group_ref=context.group_ref,
    )


def _ta1(position: int, fields: list[str], isa: IsaHeader) -> MessageOutcome:
    return MessageOutcome(
        message_type="TA1",
        message_ref=_element(fields, 1),
        version=isa.fields[12].strip() or None,
        position=position,
        supported=False,
        warnings=[
            *isa.warnings,
            issue("UNSUPPORTED_MESSAGE", sets.unsupported_message("TA1"), "TA1", position, warning=True),
        ],
    )


def _missing_iea(control: str, position: int | None, what: str) -> ParseError:
    why = "two interchanges are run together" if position is not None else "the file looks truncated"
    return ParseError(
        f"{what} before the IEA that closes interchange {control}: {why}",
        code="X12_IEA_MISSING",
        segment="IEA",
        position=position,
    )


def _unexpected(tag: str, position: int, where: str) -> ParseError:
    return ParseError(
        f"segment {tag} at position {position} is {where}, where only envelope segments may appear",
        code="X12_SEGMENT_UNEXPECTED",
        segment=tag,
        position=position,
    )
