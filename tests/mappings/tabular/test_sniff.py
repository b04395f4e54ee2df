"""`sniff` tells whether a file fits a mapping, so a partner's other files are not misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings.tabular import TabularFormat
from tests.mappings.tabular.helpers import FIXTURES, fixture_mapping

EDI = (Path(__file__).resolve().parents[2] / "fixtures" / "orders_d96a_basic.edi").read_bytes()
FILES = {
    "mueller": (FIXTURES / "mueller_orders.csv").read_bytes(),
    "webshop": (FIXTURES / "webshop_orders.csv").read_bytes(),
    "nordlicht": (FIXTURES / "nordlicht_orders.txt").read_bytes(),
}


@pytest.mark.parametrize("mapping", sorted(FILES))
def test_each_mapping_recognises_only_its_own_file(mapping: str) -> None:
    fmt = TabularFormat(fixture_mapping(mapping))
    for name, data in FILES.items():
        assert fmt.sniff(data[:4096]) is (name == mapping), name
    assert fmt.sniff(EDI[:4096]) is False
    assert fmt.sniff(b"") is False


def test_a_head_cut_inside_a_row_still_fits() -> None:
    fmt = TabularFormat(fixture_mapping("mueller"))
    data = FILES["mueller"]
    assert fmt.sniff(data[: data.index(b"\r\n", 200) + 40])


def test_a_fixed_width_file_must_start_with_a_header_record() -> None:
    fmt = TabularFormat(fixture_mapping("nordlicht"))
    lines = FILES["nordlicht"].split(b"\r\n")
    assert fmt.sniff(b"\r\n".join(lines[1:]) + b"\r\n") is False
