"""Tokenizer: separators come from each ISA, white space between segments is not data, chunk boundaries
fall anywhere (even inside a UTF-8 character) without changing a single segment."""

from __future__ import annotations

import io

import pytest

from gateway.core.errors import ParseError
from mappings.x12.isa import parse_isa
from mappings.x12.tokenizer import Tokenizer
from tests.mappings.x12.builders import MINIMAL_850, document, group, isa, order_850, transaction


def segments(data: str | bytes, chunk_size: int = 1 << 16) -> list[tuple[int, list[str]]]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(Tokenizer(io.BytesIO(raw), chunk_size))


def tags(data: str | bytes) -> list[str]:
    return [fields[0] for _, fields in segments(data)]


def test_segments_come_with_their_position_isa_first() -> None:
    found = segments(document(group(order_850(*MINIMAL_850))))
    assert [position for position, _ in found] == list(range(1, 11))
    assert [fields[0] for _, fields in found] == [
        "ISA", "GS", "ST", "BEG", "CUR", "PO1", "CTT", "SE", "GE", "IEA"
    ]  # fmt: skip
    assert found[5][1] == ["PO1", "1", "2", "EA", "3.5", "", "IN", "A-1"]


def test_separators_are_read_from_the_isa() -> None:
    data = document(group(order_850(*MINIMAL_850)), element="|", component=":", terminator="'", suffix="")
    tokenizer = Tokenizer(data.encode())
    found = list(tokenizer)
    assert tokenizer.isa is not None
    separators = tokenizer.isa.separators
    assert (separators.element, separators.component, separators.segment) == ("|", ":", "'")
    assert separators.repetition is None  # ISA11 "U" before 00402
    assert found[5][1] == ["PO1", "1", "2", "EA", "3.5", "", "IN", "A-1"]


@pytest.mark.parametrize(
    ("version", "isa11", "expected"),
    [
        ("00501", "^", "^"),
        ("00402", "!", "!"),
        ("00401", "^", None),  # before 00402 ISA11 is the standards identifier, whatever it holds
        ("00307", "^", None),
        ("00501", "U", None),  # a common misconfiguration: 5010 with "U" has no repetition separator
    ],
)
def test_repetition_separator_only_from_version_00402(version: str, isa11: str, expected: str | None) -> None:
    header = parse_isa(isa(version=version, isa11=isa11), final=True)
    assert header is not None
    assert header.separators.repetition == expected


def test_tilde_element_separator_with_crlf_terminator() -> None:
    data = document(group(order_850(*MINIMAL_850)), element="~", terminator="\r", suffix="\n")
    found = segments(data)
    assert found[5][1] == ["PO1", "1", "2", "EA", "3.5", "", "IN", "A-1"]
    assert [fields[0] for _, fields in found][-1] == "IEA"
    assert all("\n" not in value and "\r" not in value for _, fields in found for value in fields)


def test_newline_only_terminator() -> None:
    data = document(group(order_850(*MINIMAL_850)), terminator="\n", suffix="")
    found = segments(data)
    assert len(found) == 10
    assert found[-1][1] == ["IEA", "1", "000000001"]


def test_bom_indentation_and_crlf_after_the_terminator_are_not_data() -> None:
    body = document(group(order_850(*MINIMAL_850)), suffix="\r\n")
    indented = "\r\n".join("    " + line for line in body.split("\r\n"))
    found = segments(b"\xef\xbb\xbf" + b"  \r\n" + indented.encode())
    assert [fields[0] for _, fields in found][:3] == ["ISA", "GS", "ST"]
    assert found[3][1] == ["BEG", "00", "SA", "PO-1", "", "20240101"]


def test_last_segment_without_terminator_is_read() -> None:
    data = document(group(order_850(*MINIMAL_850)), suffix="").removesuffix("~")
    assert segments(data)[-1][1] == ["IEA", "1", "000000001"]


def test_trailing_whitespace_in_an_element_is_kept_as_sent() -> None:
    data = document(group(order_850("BEG*00*SA*PO-1**20240101", "N4*BENTONVILLE*AR*72712 ")))
    assert ["N4", "BENTONVILLE", "AR", "72712 "] in [fields for _, fields in segments(data)]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 64, 105, 106, 107])
def test_tiny_chunks_give_the_same_segments(chunk_size: int) -> None:
    # Non-ASCII text: a chunk boundary will fall inside multi-byte UTF-8 characters.
    sets = order_850(
        "BEG*00*SA*PO-ÄÖÜ**20240101", "N1*ST*Crème brûlée Ltd \u2013 東京", "PO1*1*2*EA*3.5**IN*A-1"
    )
    data = document(group(sets), suffix="\r\n") + document(
        group(sets), control=2, element="|", terminator="\n"
    )
    assert segments(data, chunk_size) == segments(data)
    names = [fields[2] for _, fields in segments(data, chunk_size) if fields[0] == "N1"]
    assert names == ["Crème brûlée Ltd \u2013 東京"] * 2


def test_latin1_text_is_read_rather_than_rejected() -> None:
    data = document(group(order_850("N1*ST*Caf\xe9 M\xfcller"))).encode("latin-1")
    assert ["N1", "ST", "Café Müller"] in [fields for _, fields in segments(data)]


def test_several_interchanges_each_with_its_own_separators() -> None:
    first = document(group(order_850(*MINIMAL_850)), control=1)
    second = document(group(order_850(*MINIMAL_850)), control=2, element="|", component=":", terminator="\n")
    tokenizer = Tokenizer((first + "\n\n" + second).encode())
    found = []
    for position, fields in tokenizer:
        assert tokenizer.isa is not None
        found.append((position, fields[0], tokenizer.isa.separators.element))
    assert [f for f in found if f[1] in ("ISA", "IEA")] == [
        (1, "ISA", "*"), (10, "IEA", "*"), (1, "ISA", "|"), (10, "IEA", "|")
    ]  # fmt: skip


def test_isa_with_wrong_padding_is_read_by_its_separators() -> None:
    text = isa().replace("SENDER         ", "SENDER") + "GS*PO~"
    header = parse_isa(text, final=True)
    assert header is not None
    assert header.fields[6] == "SENDER"
    assert header.length == 106 - 9
    [warning] = header.warnings
    assert (warning.code, warning.severity) == ("X12_ISA_LENGTH", "warning")
    assert "ISA06 has 6 characters instead of 15" in warning.message


def test_isa_of_standard_width_has_no_warning() -> None:
    header = parse_isa(isa(), final=True)
    assert header is not None
    assert (header.length, header.warnings) == (106, ())


@pytest.mark.parametrize(
    ("text", "code", "element"),
    [
        (isa().replace("*P*>~", "*PP*>~"), "X12_ISA_LENGTH", "ISA15"),  # one-character element too wide
        (isa().replace("*>~", "*A~"), "X12_ISA_SEPARATORS", "ISA16"),  # component separator is a letter
        (isa().replace("*>~", "*>") + "GS*PO", "X12_ISA_SEPARATORS", "ISA16"),  # no terminator
        (isa().replace("*>~", "*>*"), "X12_ISA_SEPARATORS", None),  # terminator = element separator
        (isa()[:60], "X12_ISA_LENGTH", None),  # truncated inside the ISA
        ("ISAX00", "X12_ISA_SEPARATORS", None),  # no element separator after ISA
        (isa().replace("*00401*", "*00501*").replace("*U*", "*>*"), "X12_ISA_SEPARATORS", "ISA11"),
    ],
)
def test_isa_errors_are_precise(text: str, code: str, element: str | None) -> None:
    with pytest.raises(ParseError) as raised:
        parse_isa(text, final=True)
    assert (raised.value.code, raised.value.segment, raised.value.position) == (code, "ISA", 1)
    assert raised.value.element == element


def test_incomplete_isa_asks_for_more_text_until_the_end() -> None:
    assert parse_isa(isa()[:50], final=False) is None
    assert parse_isa(isa()[:105], final=False) is None


def test_a_bad_segment_tag_is_a_parse_error_with_its_position() -> None:
    data = document(group(transaction("850", "0001", ["BEG*00*SA*PO-1**20240101", "po1*1*2*EA"])))
    with pytest.raises(ParseError) as raised:
        segments(data)
    assert (raised.value.code, raised.value.position) == ("X12_SEGMENT_TAG", 5)
