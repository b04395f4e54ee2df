"""`ordergate translate` over every EDI document in the shared corpus: orders accepted, everything else
refused with a reason an EDI analyst can act on. (Field-level facts are checked per format in
tests/mappings/.)"""

from __future__ import annotations

import pytest

from mappings.translate import translate
from tests.corpus import CorpusEntry, entries, require_corpus

EDI = entries(lambda e: e.file.endswith(".edi"))
ORDER_TYPES = {"ORDERS", "850"}


def _is_order_message(entry: CorpusEntry) -> bool:
    return any(part in ORDER_TYPES for part in entry.message_type.replace("+", " ").split())


def _id(entry: CorpusEntry) -> str:
    return entry.file


@pytest.mark.corpus
def test_corpus_is_present() -> None:
    require_corpus()
    assert len(EDI) >= 30


@pytest.mark.corpus
@pytest.mark.parametrize(
    "entry", [e for e in EDI if e.family != "malformed" and _is_order_message(e)], ids=_id
)
def test_every_well_formed_order_document_is_accepted(entry: CorpusEntry) -> None:
    require_corpus()
    translation = translate(entry.path.read_bytes())
    assert translation.status == "accepted", [e.describe() for e in translation.errors]
    expected_orders = sum(1 for part in entry.expected.split("ST 850 ")[1:]) or entry.expected.count(
        "msg ORDERS"
    )
    assert len(translation.orders) == expected_orders
    for order in translation.orders:
        assert order.lines, order.order_number


@pytest.mark.corpus
@pytest.mark.parametrize("entry", [e for e in EDI if e.family == "malformed"], ids=_id)
def test_every_malformed_document_is_refused_with_a_located_reason(entry: CorpusEntry) -> None:
    require_corpus()
    translation = translate(entry.path.read_bytes())
    assert translation.status == "rejected"
    assert translation.orders == []
    assert translation.errors
    for error in translation.errors:
        assert error.code and error.message
        assert error.segment is not None and error.position is not None, error


@pytest.mark.corpus
@pytest.mark.parametrize(
    "entry", [e for e in EDI if e.family != "malformed" and not _is_order_message(e)], ids=_id
)
def test_other_message_types_are_named_in_the_refusal(entry: CorpusEntry) -> None:
    require_corpus()
    translation = translate(entry.path.read_bytes())
    assert translation.status == "rejected"
    codes = {e.code for e in translation.errors}
    if codes == {"NOT_AN_ORDER"}:
        message_type = entry.message_type.split()[0]
        assert all(message_type in e.message for e in translation.errors), translation.errors
    else:
        # a non-order document that is also broken says what is broken (the 940's control numbers)
        assert all(e.segment and e.position for e in translation.errors), translation.errors


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "code", "segment"),
    [
        ("malformed/orders_d96a_ean008_una_no_unz_pydifact.edi", "EDIFACT_UNZ_MISSING", "UNZ"),
        ("malformed/orders_d96b_eancom_ung_group_unt_mismatch_staedi.edi", "EDIFACT_UNT_COUNT", "UNT"),
        ("malformed/aperak_d96a_unt_count_mismatch_pydifact.edi", "EDIFACT_UNT_COUNT", "UNT"),
        ("malformed/invoic_d96a_fragment_no_envelope_smooks.edi", "EDIFACT_NOT_INTERCHANGE", "BGM"),
        ("x12/940_4010_isa00200_crlf_terminator_oopfactory.edi", "X12_GE_CONTROL", "GE"),
    ],
)
def test_precise_refusals(name: str, code: str, segment: str) -> None:
    require_corpus()
    [entry] = entries(lambda e: e.file == name)
    errors = translate(entry.path.read_bytes()).errors
    assert (errors[0].code, errors[0].segment) == (code, segment), errors
