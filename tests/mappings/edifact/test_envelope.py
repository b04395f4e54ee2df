"""Envelope checks: each refusal with its code, segment, position and element; message-level UNT problems."""

from __future__ import annotations

import pytest

from gateway.core.errors import ParseError
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.edifact import FORMAT, codes

from .support import UNB, interchange, message, only, read, refused

ORDER = ("BGM+220+PO1+9", "DTM+137:20240101:102", "LIN+1++4006381333931:EN", "QTY+21:1")


def test_header_facts() -> None:
    unb = "UNB+UNOC:3+5412345000013:14:RR+5790000274017:ZZ+240101:1200+ICR1+PW+APP+A+1++1'"
    header, messages = read(interchange(unb=unb))
    assert header == InterchangeHeader(
        format="edifact",
        sender_id="5412345000013",
        sender_qualifier="14",
        receiver_id="5790000274017",
        receiver_qualifier="ZZ",
        control_ref="ICR1",
        syntax="UNOC:3",
        prepared_at="240101:1200",
        test=True,
        ack_requested=True,
    )
    assert messages == []


def test_messages_are_yielded_one_by_one_with_their_envelope_facts() -> None:
    data = interchange(message("M1", *ORDER), message("M2", "BGM+380+INV1+9", kind="INVOIC:D:96A:UN"))
    _, (first, second) = read(data)
    assert (first.message_type, first.message_ref, first.version, first.position) == (
        "ORDERS",
        "M1",
        "D:96A:UN:EAN008",
        2,
    )
    assert first.supported and first.order is not None and not first.errors
    assert (second.message_type, second.message_ref, second.version, second.position) == (
        "INVOIC",
        "M2",
        "D:96A:UN",
        8,
    )
    assert not second.supported and second.order is None


def test_unsupported_messages_are_named_in_plain_words() -> None:
    data = interchange(
        message("1", "BGM+380+INV1+9", kind="INVOIC:D:96A:UN"), message("2", kind="ZZZZZZ:D:96A:UN")
    )
    _, (invoice, unknown) = read(data)
    warning = only(invoice.warnings, codes.UNSUPPORTED_MESSAGE)
    assert warning.message == "INVOIC (invoice) is not an order; ordergate does not take it in yet"
    assert (warning.segment, warning.position, warning.severity) == ("UNH", 2, "warning")
    assert "ZZZZZZ" in only(unknown.warnings, codes.UNSUPPORTED_MESSAGE).message


@pytest.mark.parametrize("data", [b"", b"   \r\n\t", b"\xef\xbb\xbf\n"])
def test_empty_documents(data: bytes) -> None:
    assert refused(data).code == codes.EMPTY


def test_a_message_body_without_envelope_is_not_an_interchange() -> None:
    error = refused(b"BGM+82+500000000020+ZZ1'\nDTM+137:20080421:102'")
    assert (error.code, error.segment, error.position) == (codes.NOT_INTERCHANGE, "BGM", 1)
    assert "not an interchange" in error.message


@pytest.mark.parametrize(
    "data", [b"ISA*00*", b"<?xml version='1.0'?>", b"\x00\x01\x02binary", b"UNBX+a'", b"UN"]
)
def test_other_documents_are_not_interchanges(data: bytes) -> None:
    assert refused(data).code == codes.NOT_INTERCHANGE


@pytest.mark.parametrize(
    "una", ["UNA:+.", "UNA::.? '", "UNA:+.?:'", "UNA:+x? '", "UNAa+.? '", "UNA:+.? \xe9"]
)
def test_unusable_service_string_advice(una: str) -> None:
    error = refused(interchange(una=una))
    assert (error.code, error.segment) == (codes.UNA_INVALID, "UNA")


@pytest.mark.parametrize(
    ("unb", "element"),
    [
        ("UNB+UNOC:3++R+240101:1200+ICR1'", "0004"),
        ("UNB+UNOC:3+S++240101:1200+ICR1'", "0010"),
        ("UNB+UNOC:3+S+R+240101:1200'", "0020"),
    ],
)
def test_unb_without_its_mandatory_elements(unb: str, element: str) -> None:
    error = refused(interchange(unb=unb))
    assert (error.code, error.segment, error.position, error.element) == (
        codes.UNB_INVALID,
        "UNB",
        1,
        element,
    )


def test_missing_unz_names_unz_where_it_was_expected() -> None:
    data = (UNB + message("1", *ORDER)).encode()
    error = refused(data)
    assert (error.code, error.segment, error.position) == (codes.UNZ_MISSING, "UNZ", 8)
    assert "truncated" in error.message


def test_truncated_inside_a_message() -> None:
    data = (UNB + message("1", *ORDER)).encode()[:-20]
    error = refused(data)
    assert (error.code, error.segment, error.position) == (codes.UNZ_MISSING, "UNZ", 5)
    assert "inside message 1" in error.message and "LIN" in error.message


def test_only_the_final_terminator_missing() -> None:
    error = refused(interchange(message("1", *ORDER))[:-1])
    assert (error.code, error.segment, error.position) == (codes.SEGMENT_UNTERMINATED, "UNZ", 8)


def test_unz_count_must_equal_the_messages() -> None:
    data = interchange(message("1", *ORDER), unz="UNZ+2+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position, error.element) == (codes.UNZ_COUNT, "UNZ", 8, "0036")
    assert error.message == "UNZ count 2 does not match the 1 messages in the interchange"


def test_unz_reference_must_equal_unb() -> None:
    error = refused(interchange(message("1", *ORDER), unz="UNZ+1+ICR2'"))
    assert (error.code, error.segment, error.position, error.element) == (codes.UNZ_REF, "UNZ", 8, "0020")
    assert "'ICR2'" in error.message and "'ICR1'" in error.message


def test_envelope_errors_come_after_the_messages_already_yielded() -> None:
    data = interchange(message("1", *ORDER), message("2", *ORDER), unz="UNZ+3+ICR1'")
    events = FORMAT.read(data)
    assert isinstance(next(events), InterchangeHeader)
    assert isinstance(next(events), MessageOutcome)
    assert isinstance(next(events), MessageOutcome)
    with pytest.raises(ParseError) as info:
        next(events)
    assert info.value.code == codes.UNZ_COUNT


def test_unt_count_mismatch_refuses_only_that_message() -> None:
    data = interchange(message("1", *ORDER, count=9), message("2", *ORDER))
    _, (bad, good) = read(data)
    issue = only(bad.errors, codes.UNT_COUNT)
    assert (issue.segment, issue.position, issue.element) == ("UNT", 7, "0074")
    assert issue.message == "UNT segment count 9 does not match the 6 segments from UNH to UNT in message 1"
    assert not good.errors and good.order is not None


def test_unt_reference_must_equal_unh() -> None:
    data = interchange("UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'UNT+3+2'")
    _, (outcome,) = read(data)
    issue = only(outcome.errors, codes.UNT_REF)
    assert (issue.segment, issue.position, issue.element) == ("UNT", 4, "0062")


@pytest.mark.parametrize("count", ["", "X"])
def test_unt_count_that_is_no_number(count: str) -> None:
    data = interchange(f"UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'UNT+{count}+1'")
    _, (outcome,) = read(data)
    assert only(outcome.errors, codes.UNT_COUNT).position == 4


def test_unh_without_reference_or_type() -> None:
    _, (outcome,) = read(interchange("UNH++ORDERS:D:96A:UN'UNT+2+'"))
    assert only(outcome.errors, codes.UNH_INVALID).element == "0062"


def test_unh_without_unt() -> None:
    data = interchange("UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'", message("2", *ORDER), unz="UNZ+2+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position) == (codes.UNT_MISSING, "UNT", 4)
    assert "UNH at position 2" in error.message


def test_unz_inside_a_message() -> None:
    error = refused(interchange("UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'"))
    assert (error.code, error.position) == (codes.UNT_MISSING, 4)


def test_segment_between_messages() -> None:
    data = interchange(message("1", *ORDER), unz="DTM+137:20240101:102'UNZ+1+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position) == (codes.SEGMENT_OUTSIDE_MESSAGE, "DTM", 8)


def test_garbage_between_messages() -> None:
    error = refused(interchange(message("1", *ORDER), unz="bgm+1'UNZ+1+ICR1'"))
    assert (error.code, error.position) == (codes.SEGMENT_TAG, 8)


def test_garbage_inside_a_message_is_that_messages_error() -> None:
    _, (outcome,) = read(interchange(message("1", *ORDER, "x1+2")))
    issue = only(outcome.errors, codes.SEGMENT_TAG)
    assert issue.position == 7


@pytest.mark.parametrize(
    ("middle", "tag"),
    [("UNT+2+1'", "UNT"), ("UNE+1+1'", "UNE"), ("UNB+UNOC:3+S+R+240101:1200+ICR2'", "UNB")],
)
def test_misplaced_service_segments(middle: str, tag: str) -> None:
    error = refused(interchange(message("1", *ORDER), unz=middle + "UNZ+1+ICR1'"))
    assert (error.code, error.segment, error.position) == (codes.SEGMENT_MISPLACED, tag, 8)


def test_data_after_unz() -> None:
    error = refused(interchange(message("1", *ORDER)) + b"UNB+UNOC:3+S+R+240101:1200+ICR2'UNZ+0+ICR2'")
    assert (error.code, error.segment, error.position) == (codes.DATA_AFTER_UNZ, "UNB", 9)


def group(ref: str, *messages: str, count: int | None = None, une_ref: str | None = None) -> str:
    trailer = f"UNE+{len(messages) if count is None else count}+{une_ref or ref}'"
    return f"UNG+ORDERS+S:14+R:14+240101:1200+{ref}+UN+D:96A'" + "".join(messages) + trailer


def test_groups_are_counted_by_unz_and_name_their_messages() -> None:
    data = interchange(
        group("G1", message("1", *ORDER), message("2", *ORDER)), group("G2", message("3", *ORDER))
    )
    data = data.replace(b"UNZ+3+", b"UNZ+2+")
    _, messages = read(data)
    assert [m.group_ref for m in messages] == ["G1", "G1", "G2"]
    assert all(not m.errors for m in messages)
    assert not any(w.code == codes.GROUP_MISMATCH for m in messages for w in m.warnings)


def test_unz_counting_messages_instead_of_groups_is_refused() -> None:
    data = interchange(group("G1", message("1", *ORDER), message("2", *ORDER)), unz="UNZ+2+ICR1'")
    error = refused(data)
    assert (error.code, error.element) == (codes.UNZ_COUNT, "0036")
    assert "1 functional groups" in error.message


def test_une_count() -> None:
    data = interchange(group("G1", message("1", *ORDER), count=2), unz="UNZ+1+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position, error.element) == (codes.UNE_COUNT, "UNE", 9, "0060")


def test_une_reference() -> None:
    data = interchange(group("G1", message("1", *ORDER), une_ref="G9"), unz="UNZ+1+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position, error.element) == (codes.UNE_REF, "UNE", 9, "0048")


def test_ung_without_une() -> None:
    data = interchange(group("G1", message("1", *ORDER))[: -len("UNE+1+G1'")], unz="UNZ+1+ICR1'")
    error = refused(data)
    assert (error.code, error.segment, error.position) == (codes.UNE_MISSING, "UNE", 9)


def test_groups_and_loose_messages_do_not_mix() -> None:
    data = interchange(message("1", *ORDER), group("G1", message("2", *ORDER)), unz="UNZ+2+ICR1'")
    assert refused(data).code == codes.SEGMENT_MISPLACED
    data = interchange(group("G1", message("1", *ORDER)), message("2", *ORDER), unz="UNZ+2+ICR1'")
    assert refused(data).code == codes.SEGMENT_MISPLACED


def test_group_and_message_that_disagree_get_a_warning() -> None:
    data = interchange(group("G1", message("1", *ORDER, kind="ORDERS:D:96B:UN")), unz="UNZ+1+ICR1'")
    _, (outcome,) = read(data)
    assert "D:96B" in only(outcome.warnings, codes.GROUP_MISMATCH).message
    assert not outcome.errors


def test_every_failure_is_a_parse_error_with_an_edifact_code() -> None:
    bad = [b"", b"x", b"UNA", interchange(message("1", *ORDER))[:-3], interchange(unz="UNZ+5+ICR1'")]
    for data in bad:
        assert refused(data).code.startswith("EDIFACT_")


def test_unterminated_junk_after_unz() -> None:
    error = refused(interchange(message("1", *ORDER)) + b"\r\nJUNK")
    assert (error.code, error.segment, error.position) == (codes.DATA_AFTER_UNZ, "JUN", 9)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"UNA:+.? 'UNB+UNOC:3", True),
        (b"\xef\xbb\xbf\r\n  UNB+UNOA:1+", True),
        (b"UN\r\nB+UNOA:3", True),
        (b"UNB=UNOA=3", True),
        (b"UNBX+1", False),
        (b"BGM+220+1'", False),
        (b"ISA*00*          *00*", False),
        (b"<?xml", False),
        (b"", False),
    ],
)
def test_sniff(head: bytes, expected: bool) -> None:
    assert FORMAT.sniff(head) is expected
    assert (FORMAT.name, FORMAT.label) == ("edifact", "UN/EDIFACT")
