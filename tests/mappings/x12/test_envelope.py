"""Envelope checks: each count and control number, each missing trailer, each misplaced segment.

GS/GE and ISA/IEA problems reject the interchange (ParseError); SE01/SE02 problems reject only their set.
"""

from __future__ import annotations

import pytest

from gateway.core.errors import ParseError
from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.x12 import FORMAT
from tests.mappings.x12.builders import MINIMAL_850, codes, document, group, order_850, read, transaction


def parse_error(data: str | bytes) -> ParseError:
    with pytest.raises(ParseError) as raised:
        read(data)
    return raised.value


def two_sets() -> str:
    """ISA 1, GS 2, ST..SE 0001 at 3..8, ST..SE 0002 at 9..14, GE 15, IEA 16."""
    return document(group(order_850(*MINIMAL_850, control="0001"), order_850(*MINIMAL_850, control="0002")))


@pytest.mark.parametrize(
    "data",
    [b"", b"   \r\n\t", b"\xef\xbb\xbf", b"UNB+UNOA:3+SENDER+RECEIVER'", b"\x00\x01\x02garbage", b"IS"],
)
def test_not_an_interchange(data: bytes) -> None:
    error = parse_error(data)
    assert error.code == "X12_NOT_INTERCHANGE"
    assert "ISA" in error.message


def test_the_header_describes_the_interchange() -> None:
    data = document(
        group(order_850(*MINIMAL_850)),
        control=42,
        sender=("01", "123456789"),
        receiver=("ZZ", "ACME"),
        usage="T",
        ack="1",
    )
    header, messages = collect(FORMAT.read(data.encode()))
    assert header == InterchangeHeader(
        format="x12",
        sender_id="123456789",
        sender_qualifier="01",
        receiver_id="ACME",
        receiver_qualifier="ZZ",
        control_ref="000000042",
        syntax="00401",
        prepared_at="240101:1200",
        test=True,
        ack_requested=True,
    )
    assert [(m.message_type, m.message_ref, m.version, m.position, m.group_ref) for m in messages] == [
        ("850", "0001", "004010", 3, "1")
    ]


def test_truncated_interchange_has_no_iea() -> None:
    data = two_sets()
    error = parse_error(data[: data.index("SE*6*0002")])
    assert error.code == "X12_IEA_MISSING"
    assert "truncated" in error.message and "0002" in error.message


def test_missing_iea_at_the_end() -> None:
    data = two_sets()
    error = parse_error(data[: data.index("IEA")])
    assert (error.code, error.segment) == ("X12_IEA_MISSING", "IEA")


def test_iea01_counts_groups() -> None:
    error = parse_error(two_sets().replace("IEA*1*", "IEA*2*"))
    assert (error.code, error.segment, error.position, error.element) == ("X12_IEA_COUNT", "IEA", 16, "IEA01")
    assert error.message == "IEA01 says '2' functional groups but interchange 000000001 has 1"


def test_iea02_must_match_isa13() -> None:
    error = parse_error(two_sets().replace("IEA*1*000000001", "IEA*1*000000007"))
    assert (error.code, error.position, error.element) == ("X12_IEA_CONTROL", 16, "IEA02")
    assert "'000000007'" in error.message and "'000000001'" in error.message


def test_ge01_counts_sets() -> None:
    error = parse_error(two_sets().replace("GE*2*1", "GE*3*1"))
    assert (error.code, error.segment, error.position, error.element) == ("X12_GE_COUNT", "GE", 15, "GE01")
    assert error.message.startswith("GE01 says '3' transaction sets but functional group 1")


def test_ge02_must_match_gs06() -> None:
    error = parse_error(two_sets().replace("GE*2*1", "GE*2*9"))
    assert (error.code, error.element) == ("X12_GE_CONTROL", "GE02")


def test_control_numbers_compare_as_numbers() -> None:
    data = two_sets().replace("*1*X*004010", "*0083*X*004010").replace("GE*2*1", "GE*2*83")
    assert [m.group_ref for m in read(data)] == ["0083", "0083"]


def test_missing_ge() -> None:
    data = two_sets().replace("GE*2*1~\n", "")
    error = parse_error(data)
    assert (error.code, error.segment) == ("X12_GE_MISSING", "IEA")


def test_sets_before_a_broken_group_trailer_were_already_streamed() -> None:
    events = FORMAT.read(two_sets().replace("GE*2*1", "GE*2*9").encode())
    seen: list[object] = []
    with pytest.raises(ParseError):
        seen.extend(events)
    assert [type(e) for e in seen] == [InterchangeHeader, MessageOutcome, MessageOutcome]


def test_se01_rejects_only_its_set() -> None:
    data = two_sets().replace("SE*6*0001", "SE*21*0001")
    first, second = read(data)
    [error] = first.errors
    assert (error.code, error.segment, error.position, error.element) == ("X12_SE_COUNT", "SE", 8, "SE01")
    assert error.message == "SE01 says '21' segments but the transaction set 0001 has 6 from ST to SE"
    assert second.errors == []
    assert second.order is not None


def test_se02_must_match_st02() -> None:
    first, _ = read(two_sets().replace("SE*6*0001", "SE*6*0009"))
    assert codes(first.errors) == ["X12_SE_CONTROL"]
    assert first.errors[0].element == "SE02"


def test_missing_se_rejects_the_interchange() -> None:
    error = parse_error(two_sets().replace("SE*6*0001~\n", ""))
    # ISA 1, GS 2, ST 3 … CTT 7, then the second ST at 8 where SE 0001 should have been.
    assert (error.code, error.segment, error.position) == ("X12_SE_MISSING", "ST", 8)
    assert "0001" in error.message


def test_st_outside_a_group() -> None:
    data = document(group(order_850(*MINIMAL_850))).replace(
        "GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010~\n", ""
    )
    assert parse_error(data).code == "X12_GS_MISSING"


def test_data_segment_between_sets() -> None:
    data = two_sets().replace("ST*850*0002", "REF*DP*1~\nST*850*0002")
    error = parse_error(data)
    assert (error.code, error.segment, error.position) == ("X12_SEGMENT_UNEXPECTED", "REF", 9)


def test_data_segment_between_groups() -> None:
    data = two_sets().replace("IEA*", "N1*BY*X~\nIEA*")
    assert parse_error(data).code == "X12_SEGMENT_UNEXPECTED"


def test_garbage_after_the_iea() -> None:
    error = parse_error(two_sets() + "this is not X12")
    assert error.code == "X12_SEGMENT_UNEXPECTED"
    assert "after an interchange's IEA" in error.message


def test_isa_inside_an_interchange() -> None:
    inner = document(group(order_850(*MINIMAL_850)), control=2)
    data = two_sets().replace("IEA*1*000000001~\n", inner)
    error = parse_error(data)
    assert (error.code, error.segment) == ("X12_IEA_MISSING", "IEA")
    assert "run together" in error.message


def test_several_interchanges_yield_a_header_each_in_order() -> None:
    data = "".join(document(group(order_850(*MINIMAL_850)), control=n) for n in (1, 2, 3))
    events = list(FORMAT.read(data.encode()))
    assert [e.control_ref if isinstance(e, InterchangeHeader) else e.message_type for e in events] == [
        "000000001", "850", "000000002", "850", "000000003", "850"
    ]  # fmt: skip


def test_a_broken_second_interchange_raises_after_the_first_was_read() -> None:
    good = document(group(order_850(*MINIMAL_850)), control=1)
    bad = document(group(order_850(*MINIMAL_850)), control=2).replace("IEA*1*000000002", "IEA*1*000000003")
    seen: list[object] = []
    with pytest.raises(ParseError) as raised:
        seen.extend(FORMAT.read((good + bad).encode()))
    assert raised.value.code == "X12_IEA_CONTROL"
    assert len(seen) == 4


def test_interchange_level_warnings_reach_every_set() -> None:
    data = two_sets().replace("*00401*", "*00040*")
    for outcome in read(data):
        assert "X12_ISA_VERSION" in codes(outcome.warnings)
        assert outcome.order is not None


@pytest.mark.parametrize(
    ("set_type", "words"),
    [
        ("810", "810 (invoice) is not an order; ordergate does not take it in yet"),
        ("997", "997 (functional acknowledgment) is not an order"),
        ("856", "856 (ship notice/manifest) is not an order"),
        ("875", "875 (grocery products purchase order) is an order message ordergate does not take in yet"),
        ("123", "123 (a transaction set ordergate does not know) is not an order"),
    ],
)
def test_other_sets_are_read_for_their_envelope_only(set_type: str, words: str) -> None:
    data = document(group(transaction(set_type, "0007", ["BIG*20240101*INV1", "TDS*100"])))
    [outcome] = read(data)
    assert (outcome.message_type, outcome.message_ref, outcome.supported, outcome.order) == (
        set_type, "0007", False, None
    )  # fmt: skip
    [warning] = outcome.warnings
    assert (warning.code, warning.severity, warning.segment, warning.position) == (
        "UNSUPPORTED_MESSAGE", "warning", "ST", 3
    )  # fmt: skip
    assert words in warning.message


def test_envelope_errors_of_unsupported_sets_are_reported_too() -> None:
    data = document(group(transaction("810", "0001", ["BIG*20240101*INV1"]))).replace(
        "SE*3*0001", "SE*4*0001"
    )
    [outcome] = read(data)
    assert codes(outcome.errors) == ["X12_SE_COUNT"]


def test_interchange_with_only_ta1_acknowledgments() -> None:
    data = (
        "\n".join(
            [
                document().split("\n")[0],
                "TA1*000000659*110922*0512*A*000~",
                "TA1*000000660*110922*0512*A*000~",
            ]
        )
        + "\nIEA*0*000000001~"
    )
    outcomes = read(data)
    assert [(o.message_type, o.message_ref, o.position, o.supported) for o in outcomes] == [
        ("TA1", "000000659", 2, False), ("TA1", "000000660", 3, False)
    ]  # fmt: skip
    assert "TA1 (interchange acknowledgment)" in outcomes[0].warnings[0].message


def test_an_empty_interchange_has_a_header_and_no_sets() -> None:
    header, messages = collect(FORMAT.read(document().encode()))
    assert header is not None and messages == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"ISA*00*", True),
        (b"\xef\xbb\xbf  \r\n  ISA~00~", True),
        (b"ISA 00", False),
        (b"ISAB00", False),
        (b"UNA:+.? 'UNB+", False),
        (b"<?xml", False),
        (b"", False),
    ],
)
def test_sniff(head: bytes, expected: bool) -> None:
    assert FORMAT.sniff(head) is expected


def test_format_identity() -> None:
    import importlib

    loaded = importlib.import_module("mappings.x12").FORMAT  # how mappings.registry loads it
    assert (loaded.name, loaded.label) == ("x12", "ANSI ASC X12")
