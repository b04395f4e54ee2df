"""Streams read as bytes do: chunk boundaries anywhere, seekable or not, one order in memory at a time."""

from __future__ import annotations

import io
from itertools import islice

import pytest

from mappings.base import InterchangeHeader, MessageOutcome, collect
from mappings.tabular import TabularFormat, load_mapping
from mappings.translate import translate
from tests.mappings.tabular.helpers import CSV_BASE, CSV_HEADER, FIXTURES, fixture_mapping, run

CASES = [
    ("mueller", "mueller_orders.csv"),
    ("webshop", "webshop_orders.csv"),
    ("nordlicht", "nordlicht_orders.txt"),
]


class _OneWay(io.BytesIO):
    """A stream that says it cannot seek, like a socket or a pipe."""

    def seekable(self) -> bool:
        return False


@pytest.mark.parametrize(("mapping", "file"), CASES)
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_small_chunks_read_the_same_orders(mapping: str, file: str, chunk_size: int) -> None:
    data = (FIXTURES / file).read_bytes()
    fmt = TabularFormat(fixture_mapping(mapping))
    whole = collect(fmt.read(data))
    chunked = collect(fmt.read(io.BytesIO(data), chunk_size=chunk_size))
    assert chunked == whole
    assert [m.order for m in whole[1]] and all(m.order for m in whole[1])


@pytest.mark.parametrize(("mapping", "file"), CASES)
def test_streams_seekable_or_not(mapping: str, file: str) -> None:
    data = (FIXTURES / file).read_bytes()
    fmt = TabularFormat(fixture_mapping(mapping))
    expected = translate(data, format=fmt)
    for stream in (io.BytesIO(data), _OneWay(data)):
        got = translate(stream, format=fmt)
        assert got.orders == expected.orders
        assert got.interchanges[0].header.control_ref == expected.interchanges[0].header.control_ref


def test_a_different_file_has_a_different_control_ref() -> None:
    data = (FIXTURES / "mueller_orders.csv").read_bytes()
    first = run(fixture_mapping("mueller"), data).interchanges[0].header.control_ref
    second = run(fixture_mapping("mueller"), data + b"\r\n").interchanges[0].header.control_ref
    assert first != second


def test_a_mapped_control_ref_and_sender_column() -> None:
    extra = (
        '\n[[fields]]\ntarget = "interchange.control_ref"\ncolumn = "batch"\n'
        '\n[[fields]]\ntarget = "interchange.sender_id"\ncolumn = "supplier"\n'
    )
    translation = run(CSV_BASE + extra, "order;date;item;qty;batch;supplier\nA1;01.03.2025;X;1;B-77;ACME\n")
    header = translation.interchanges[0].header
    assert (header.control_ref, header.sender_id) == ("B-77", "ACME")
    assert translation.orders[0].source.sender_id == "ACME"


def test_orders_come_out_before_the_file_is_read_to_its_end() -> None:
    """Grouping by consecutive key yields each order as soon as the next one starts."""
    rows = "".join(f"A{i};01.03.2025;X;{i + 1}\n" for i in range(10_000))
    data = (CSV_HEADER + rows).encode()
    stream = io.BytesIO(data)
    events = TabularFormat(load_mapping(CSV_BASE)).read(stream, chunk_size=4096)
    header, first, second = islice(events, 3)
    assert isinstance(header, InterchangeHeader)
    assert isinstance(first, MessageOutcome) and first.order is not None
    assert isinstance(second, MessageOutcome) and second.order is not None
    assert second.order.order_number == "A1"
    assert stream.tell() == 4096  # hashed, rewound, then only the first chunk parsed
