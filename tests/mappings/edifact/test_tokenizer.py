"""Tokenizer: separators, release characters (also across chunk boundaries), line wrapping, charsets."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.errors import ParseError
from mappings.edifact import codes, tokenizer
from mappings.edifact.tokenizer import Repeated, Tokenizer
from mappings.edifact.values import parse_number

from .support import interchange, message, read, refused, segments

SIMPLE = b"UNB+UNOA:3+S+R+240101:1200+1'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'UNT+3+1'UNZ+1+1'"


def test_default_separators_and_positions_start_at_unb() -> None:
    found = segments(SIMPLE)
    assert [(tag, pos) for tag, _, pos in found] == [
        ("UNB", 1),
        ("UNH", 2),
        ("BGM", 3),
        ("UNT", 4),
        ("UNZ", 5),
    ]
    assert found[0][1] == [["UNOA", "3"], ["S"], ["R"], ["240101", "1200"], ["1"]]
    assert found[2][1] == [["220"], ["PO1"], ["9"]]


def test_una_is_not_counted_and_sets_every_separator() -> None:
    data = b"UNA=*,# ~UNB*UNOA=3*S=1*R*240101=1200*1~UNH*1*ORDERS=D=96A=UN~FTX*AAI***a#*b#=c#~d##e~UNT*3*1~UNZ*1*1~"
    tok = Tokenizer(data)
    found = list(tok)
    assert tok.una and tok.separators.decimal == ","
    assert [pos for _, _, pos in found] == [1, 2, 3, 4, 5]
    assert found[0][1][1] == ["S", "1"]
    # released element, component and terminator, and the release itself
    assert found[2][1][3] == ["a*b=c~d#e"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FTX+AAI+++Jan?'s bell", ["Jan's bell"]),
        ("FTX+AAI+++a?+b?:c", ["a+b:c"]),
        ("FTX+AAI+++ends with release ??", ["ends with release ?"]),
        ("FTX+AAI+++?????'", ["??'"]),
        ("FTX+AAI+++x??:y", ["x?", "y"]),
    ],
)
def test_release_character(text: str, expected: list[str]) -> None:
    data = f"UNB+UNOA:3+S+R+240101:1200+1'{text}'UNZ+0+1'".encode()
    assert segments(data)[1][1][3] == expected


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 11, 64])
def test_release_characters_at_chunk_boundaries(chunk_size: int) -> None:
    data = interchange(
        message("1", "BGM+220+PO?'1+9", "FTX+AAI+++a??", "FTX+AAI+++b?+c?:d??", "FTX+AAI+++?'?'?'"),
        una="UNA:+.? '",
    )
    whole = segments(data)
    assert segments(data, chunk_size=chunk_size) == whole
    texts = [s[1][3][0] for s in whole if s[0] == "FTX"]
    assert texts == ["a?", "b+c:d?", "'''"]
    assert whole[2][1][1] == ["PO'1"]


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=40))
@settings(max_examples=200, deadline=None)
def test_chunking_never_changes_the_segments(noise: bytes, chunk_size: int) -> None:
    data = b"UNB+UNOC:3+S+R+240101:1200+1'FTX+AAI+++" + noise + b"'UNZ+0+1'"
    try:
        whole = segments(data)
    except ParseError as error:  # the same refusal, whatever the chunking
        with pytest.raises(ParseError) as again:
            segments(data, chunk_size=chunk_size)
        assert (again.value.code, again.value.position) == (error.code, error.position)
        return
    assert segments(data, chunk_size=chunk_size) == whole


def test_decimal_comma_is_read_with_or_without_una() -> None:
    assert parse_number("1,5") == parse_number("1.5")
    data = interchange(
        message("1", "BGM+220+PO1+9", "LIN+1++4006381333931:EN", "QTY+21:2,5"), una="UNA:+,? '"
    )
    _, (outcome,) = read(data)
    assert outcome.order is not None
    assert str(outcome.order.lines[0].quantity) == "2.5"


@pytest.mark.parametrize("bad", ["1e5", "NaN", " 7", "1.2.3", "1,2,3", "-", ".", "1 000", "+1", "Infinity"])
def test_numbers_are_strict(bad: str) -> None:
    assert parse_number(bad) is None


def test_line_breaks_are_ignored_everywhere_even_inside_tags_and_after_a_release() -> None:
    flat = interchange(message("1", "BGM+220+PO1+9", "FTX+AAI+++Jan?'s"))
    text = flat.decode()
    wrapped = "\r\n".join(text[i : i + 7] for i in range(0, len(text), 7)).encode()
    inside_tags = flat.replace(b"UNH", b"U\nNH").replace(b"BGM", b"BG\r\nM")
    released = flat.replace(b"?'", b"?\n'")
    assert segments(wrapped) == segments(flat) == segments(inside_tags) == segments(released)
    assert segments(flat)[3][1][3] == ["Jan's"]


def test_a_newline_terminator_is_kept() -> None:
    data = b"UNA:+.? \nUNB+UNOA:3+S+R+240101:1200+1\r\nUNH+1+ORDERS:D:96A:UN\nUNT+2+1\nUNZ+1+1\n"
    assert [tag for tag, _, _ in segments(data)] == ["UNB", "UNH", "UNT", "UNZ"]


def test_syntax_4_repetition_separator_defaults_to_star() -> None:
    data = b"UNB+UNOA:4+S+R+20240101:1200+1'COM+a:TE*b:EM*c?*d:FX'UNZ+0+1'"
    com = segments(data)[1][1][0]
    assert isinstance(com, Repeated)
    assert com.repetitions() == [["a", "TE"], ["b", "EM"], ["c*d", "FX"]]
    assert list(com) == ["a", "TE"]  # a reader that ignores repetition sees the first one


def test_una_position_5_sets_the_repetition_separator_in_syntax_4() -> None:
    data = b"UNA:+.?^'UNB+UNOC:4+S+R+20240101:1200+1'COM+a:TE^b:EM+x*y'UNZ+0+1'"
    elements = segments(data)[1][1]
    assert isinstance(elements[0], Repeated) and elements[0].repetitions() == [["a", "TE"], ["b", "EM"]]
    assert elements[1] == ["x*y"]


def test_star_is_plain_data_in_syntax_3() -> None:
    data = b"UNB+UNOA:3+S+R+240101:1200+1'FTX+AAI+++5*6'UNZ+0+1'"
    assert segments(data)[1][1][3] == ["5*6"]


def test_unoc_is_latin_1() -> None:
    data = "UNB+UNOC:3+S+R+240101:1200+1'NAD+BY+++Bäckerei Müller'UNZ+0+1'".encode("latin-1")
    tok = Tokenizer(data)
    assert list(tok)[1][1][3] == ["Bäckerei Müller"]
    assert tok.charset.codec == "iso8859-1" and not tok.notes


@pytest.mark.parametrize(
    ("syntax", "text", "encoding"),
    [
        ("UNOD:3", "Łódź Żółć", "iso8859-2"),
        ("UNOE:3", "Москва", "iso8859-5"),
        ("UNOF:3", "Αθήνα", "iso8859-7"),
        ("UNOY:4", "東京 Zürich", "utf-8"),
        ("UNOW:4", "Ørsted ✓", "utf-8"),
    ],
)
def test_declared_character_sets(syntax: str, text: str, encoding: str) -> None:
    data = f"UNB+{syntax}+S+R+20240101:1200+1'FTX+AAI+++{text}'UNZ+0+1'".encode(encoding)
    tok = Tokenizer(data)
    assert list(tok)[1][1][3] == [text]
    assert not tok.notes


def test_utf8_in_a_unoa_interchange_is_read_as_utf8_with_a_warning_naming_the_segment() -> None:
    data = interchange(message("1", "BGM+220+PO1+9", "NAD+SU+++BÜTTNER")).replace(b"\xdc", "Ü".encode())
    data = data.replace(b"UNOC:3", b"UNOA:3")
    _, (outcome,) = read(data)
    assert outcome.order is not None and outcome.order.seller is not None
    assert outcome.order.seller.name == "BÜTTNER"
    warning = next(w for w in outcome.warnings if w.code == codes.CHARSET)
    assert (warning.segment, warning.position) == ("NAD", 4)
    assert "ASCII (UNOA)" in warning.message and "UTF-8" in warning.message


def test_bytes_that_are_not_utf8_in_unoy_fall_back_to_latin_1() -> None:
    data = b"UNB+UNOY:4+S+R+20240101:1200+1'FTX+AAI+++caf\xe9'UNZ+0+1'"
    tok = Tokenizer(data)
    assert list(tok)[1][1][3] == ["café"]
    assert [(n.code, n.position) for n in tok.notes] == [(codes.CHARSET, 2)]


def test_utf8_sent_as_unoc_is_recognised_by_its_control_characters() -> None:
    data = "UNB+UNOC:3+S+R+240101:1200+1'FTX+AAI+++BÜTTNER'UNZ+0+1'".encode()  # Ü = C3 9C, 9C is a C1 control
    tok = Tokenizer(data)
    assert list(tok)[1][1][3] == ["BÜTTNER"]
    assert tok.notes and tok.notes[0].code == codes.CHARSET


def test_unknown_syntax_identifier_is_read_as_utf8_with_a_warning() -> None:
    data = interchange(message("1", "BGM+220+PO1+9"), unb="UNB+XXXX:3+S+R+240101:1200+ICR1'")
    _, (outcome,) = read(data)
    assert codes.SYNTAX_UNKNOWN in [w.code for w in outcome.warnings]


def test_corpus_style_latin_1_unoc_file_decodes_accented_text() -> None:
    data = b"UNA:+.? 'UNB+UNOC:3+0123456789012:14:1+1234567890128:14:1+210722:1404+000001'"
    data = data + "UNH+000001+ORDRSP:D:01B:UN:EAN008'BGM+1+Lörém ïpsü+1'UNT+3+000001'UNZ+1+000001'".encode(
        "latin-1"
    )
    found = segments(data)
    assert found[2][1][1] == ["Lörém ïpsü"]


def test_byte_order_mark_and_leading_blanks_are_skipped() -> None:
    assert [t for t, _, _ in segments(b"\xef\xbb\xbf \r\n" + SIMPLE)] == ["UNB", "UNH", "BGM", "UNT", "UNZ"]


def test_trailing_blanks_nul_padding_and_eof_mark_are_accepted() -> None:
    assert len(segments(SIMPLE + b"\r\n  \x00\x00\x1a")) == 5


def test_a_segment_without_its_terminator_at_the_end_is_refused() -> None:
    error = refused(SIMPLE[:-1])
    assert error.code == codes.SEGMENT_UNTERMINATED
    assert (error.segment, error.position) == ("UNZ", 5)


def test_a_released_terminator_at_the_very_end_is_refused() -> None:
    assert refused(SIMPLE[:-1] + b"?'").code == codes.SEGMENT_UNTERMINATED


def test_endless_segment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenizer, "MAX_SEGMENT_BYTES", 1000)
    data = b"UNB+UNOA:3+S+R+240101:1200+1'FTX+AAI+++" + b"x" * 5000 + b"'UNZ+0+1'"
    error = refused(data, chunk_size=100)
    assert (error.code, error.position) == (codes.SEGMENT_TOO_LONG, 2)


def test_large_chunks_are_split_in_windows() -> None:
    data = interchange(*(message(str(i), "BGM+220+PO1+9") for i in range(2000)))
    tok = Tokenizer(io.BytesIO(data), chunk_size=len(data))
    assert sum(1 for _ in tok) == 2 + 2000 * 3


@pytest.mark.parametrize("chunk_size", range(1, 40))
def test_released_terminator_before_bytes_foreign_to_the_charset(chunk_size: int) -> None:
    data = "UNB+UNOA:3+S+R+240101:1200+1'FTX+AAI+++a?'BÜTTNER'FTX+AAI+++Ü?'b'UNZ+0+1'".encode()
    found = segments(data, chunk_size=chunk_size)
    assert [s[1][3] for s in found[1:3]] == [["a'BÜTTNER"], ["Ü'b"]]


def test_una_without_release_character_keeps_question_marks_literal() -> None:
    data = b"UNA:+.  'UNB+UNOA:3+S+R+240101:1200+1'FTX+AAI+++why?'UNZ+0+1'"
    tok = Tokenizer(data)
    found = list(tok)
    assert tok.separators.release_char is None
    assert found[1][1][3] == ["why?"]
