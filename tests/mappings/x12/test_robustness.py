"""Whatever the bytes, reading either succeeds or raises ParseError: never another exception.

Truncations are tested exhaustively (every cut of two documents), random bytes and random damage with
hypothesis, and chunked reading must give the same events as reading the whole document.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.errors import ParseError
from mappings.base import collect
from mappings.x12 import FORMAT
from tests.mappings.x12.builders import document, group, order_850, transaction
from tests.mappings.x12.test_po850 import RICH_850

RICH = document(
    group(transaction("850", "0001", RICH_850), order_850("PO1*1*1*EA", "CTT*1", control="0002")),
    group(transaction("810", "0003", ["BIG*20240101*INV-1", "TDS*100"]), control="2", function="IN"),
).encode()
INDENTED = (
    b"\xef\xbb\xbf"
    + "\r\n".join(
        "  " + line
        for line in document(
            group(order_850("N1*ST*Caf\u00e9 \u6771\u4eac", "PO1*1*1*EA")), suffix="\r\n"
        ).split("\r\n")
    ).encode()
)


def outcome_of(data: bytes, chunk_size: int = 1 << 16) -> object:
    """The events, or the ParseError's code: any other exception fails the test that calls this."""
    try:
        header, messages = collect(FORMAT.read(io.BytesIO(data), chunk_size))
    except ParseError as error:
        assert error.code.startswith("X12_"), error.code
        return error.code
    return header, [(m.message_type, m.message_ref, m.order, m.errors, m.warnings) for m in messages]


def test_every_truncation_is_a_parse_error() -> None:
    for data in (RICH, INDENTED):
        end = data.rindex(b"IEA") + data[data.rindex(b"IEA") :].index(
            b"~"
        )  # the IEA complete, terminator aside
        complete = outcome_of(data)
        assert not isinstance(complete, str)
        for cut in range(len(data)):
            found = outcome_of(data[:cut])
            if cut < end:
                assert isinstance(found, str), f"cut at {cut} was accepted: {data[:cut][-40:]!r}"
            else:
                assert found == complete


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    outcome_of(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_isa(data: bytes) -> None:
    outcome_of(RICH[:106] + data)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(RICH) - 1), st.binary(max_size=3)),
        min_size=1,
        max_size=4,
    )
)
def test_random_damage_to_a_valid_document(damage: list[tuple[int, bytes]]) -> None:
    data = bytearray(RICH)
    for offset, replacement in damage:
        data[offset : offset + 1] = replacement
    outcome_of(bytes(data))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    st.sampled_from([RICH, INDENTED, RICH + RICH.replace(b"000000001", b"000000002")]),
)
def test_chunk_size_never_changes_the_result(chunk_size: int, data: bytes) -> None:
    assert outcome_of(data, chunk_size) == outcome_of(data)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("SE*5*", "SE*" + "9" * 5000 + "*"),  # int() refuses more than 4300 digits
        ("GE*1*1", "GE*" + "9" * 5000 + "*1"),
        ("IEA*1*000000001", "IEA*1*" + "1" * 5000),
        ("CTT*1", "CTT*" + "1" * 5000),
        ("X*004010", "X*00²010"),  # a digit that int() cannot read
        ("*00401*", "*0040²*"),
    ],
)
def test_odd_numbers_never_escape_as_other_exceptions(old: str, new: str) -> None:
    data = document(group(order_850("PO1*1*1*EA", "CTT*1")))
    assert old in data
    outcome_of(data.replace(old, new, 1).encode())
