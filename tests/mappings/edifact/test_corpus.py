"""Every EDIFACT file of the shared corpus, checked against the facts its MANIFEST `expected` column records.

Two levels: segment facts (envelope, BGM, DTM, RFF, NAD, CUX, LIN/QTY/PRI as tokenized) for every file,
whatever its message type, and canonical facts (order number, dates, parties, lines, item ids,
quantities) for ORDERS. Malformed files must be refused with the precise code the corpus calls for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from gateway.core.errors import ParseError
from mappings.base import MessageOutcome
from mappings.edifact import FORMAT, codes
from mappings.edifact.orders import ITEM_SCHEMES
from mappings.edifact.tokenizer import Segment, Tokenizer
from tests.corpus import CorpusEntry, manifest, require_corpus

from .support import read

pytestmark = pytest.mark.corpus


def is_edifact(entry: CorpusEntry) -> bool:
    return entry.family == "edifact" or (entry.family == "malformed" and entry.version.startswith("D"))


ENTRIES = [entry for entry in manifest() if is_edifact(entry)]

# What each malformed EDIFACT file must produce: a refusal of the interchange (code, segment) or message
# errors (code, segment, element) in its only message. Every malformed EDIFACT file must be listed.
NO_UNZ = "malformed/orders_d96a_ean008_una_no_unz_pydifact.edi"
FRAGMENT = "malformed/invoic_d96a_fragment_no_envelope_smooks.edi"
REFUSED = {NO_UNZ: (codes.UNZ_MISSING, "UNZ"), FRAGMENT: (codes.NOT_INTERCHANGE, "BGM")}
MESSAGE_ERRORS = {
    "malformed/aperak_d96a_unt_count_mismatch_pydifact.edi": [(codes.UNT_COUNT, "UNT", "0074")],
    "malformed/orders_d96b_eancom_ung_group_unt_mismatch_staedi.edi": [(codes.UNT_COUNT, "UNT", "0074")],
    "malformed/invoic_d97b_bad_staedi.edi": [
        (codes.CODE_LENGTH, "NAD", "3035"),
        (codes.NUMERIC, "QTY", "6060"),
        (codes.NUMERIC, "PRI", "5118"),
    ],
    "malformed/invoic_d97a_trailing_component_sep_pydifact.edi": [],
}


# -- the `expected` column ---------------------------------------------------------------------------------


@dataclass
class Item:
    number: str
    kind: str
    quantities: list[tuple[str, str]]
    price: tuple[str, str] | None


@dataclass
class Expected:
    header: dict[str, str] = field(default_factory=dict)
    separators: str | None = None
    una: bool | None = None
    message_type: str = ""
    version: str = ""
    ref: str = ""
    unt: tuple[int, int] | None = None
    facts: dict[str, list[str]] = field(default_factory=dict)
    items: list[Item] | None = None
    notes: list[str] = field(default_factory=list)


_ITEM = re.compile(r"(?P<number>.*):(?P<kind>[A-Z]*) qty (?P<qty>.*?)(?: pri (?P<pri>.*))?")
_DOC = re.compile(r"doc=(?P<doc>.*?) docname=(?P<docname>.*?) func=(?P<func>.*)")
_SEPS = re.compile(r"""seps=(?P<q>["'])(?P<chars>.{6})(?P=q) \((?P<how>[^)]*)\)""")


def parse_expected(text: str) -> Expected:
    expected = Expected()
    for part in text.split("; "):
        if part.startswith("msg "):
            parse_message(part, expected)
        elif match := _SEPS.fullmatch(part):
            expected.separators = match["chars"]
            expected.una = match["how"] == "UNA"
        elif "=" in part and " " not in part.split("=", 1)[0]:
            key, _, value = part.partition("=")
            expected.header[key] = value
        else:
            expected.notes.append(part)
    return expected


def parse_message(part: str, expected: Expected) -> None:
    head, *pieces = part.split(" | ")
    identifier, ref = head.removeprefix("msg ").split(" ref=")
    expected.message_type, _, expected.version = identifier.partition(":")
    expected.ref = ref
    for piece in pieces:
        if piece.startswith("UNT="):
            declared, actual = re.findall(r"\d+", piece)[:2]
            expected.unt = (int(declared), int(actual))
        elif match := _DOC.fullmatch(piece):
            for key in ("doc", "docname", "func"):
                expected.facts.setdefault(key, []).append(match[key])
        elif piece.startswith("items=["):
            body = piece.removeprefix("items=[").removesuffix("]")
            expected.items = [parse_item(item) for item in body.split(", ")] if body else []
        else:
            key, _, value = piece.partition("=")
            expected.facts.setdefault(key, []).append(value)


def parse_item(text: str) -> Item:
    match = _ITEM.fullmatch(text)
    assert match, text
    quantities = [tuple(q.split(":", 1)) for q in match["qty"].split("/")]
    price = tuple(match["pri"].split(":", 1)) if match["pri"] else None
    return Item(match["number"], match["kind"], quantities, price)  # type: ignore[arg-type]


def test_expected_column_parser_reads_every_fact_kind() -> None:
    text = (
        'seps=":+,? \'" (UNA); syntax=UNOA:4; sender=12345678:8; messages=1; msg ORDERS:D:96A:UN:EAN008 ref=1 | '
        "UNT=8 actual=7 MISMATCH | doc=A B docname=220::9 func=9 | DTM137=2015 | RFFPD=1 | RFFPD=2 | "
        "items=[5020436373085:EN qty 21:8/59:2 pri AAA:1.5, :IN qty 47:2]; no UNZ trailer"
    )
    expected = parse_expected(text)
    assert (expected.separators, expected.una) == (":+,? '", True)
    assert expected.header == {"syntax": "UNOA:4", "sender": "12345678:8", "messages": "1"}
    assert (expected.message_type, expected.version, expected.ref, expected.unt) == (
        "ORDERS",
        "D:96A:UN:EAN008",
        "1",
        (8, 7),
    )
    assert expected.facts["doc"] == ["A B"] and expected.facts["RFFPD"] == ["1", "2"]
    assert expected.items == [
        Item("5020436373085", "EN", [("21", "8"), ("59", "2")], ("AAA", "1.5")),
        Item("", "IN", [("47", "2")], None),
    ]
    assert expected.notes == ["no UNZ trailer"]


# -- segment facts -----------------------------------------------------------------------------------------


def joined(element: list[str]) -> str:
    parts = list(element)
    while parts and not parts[-1]:
        parts.pop()
    return ":".join(parts)


def value(segment: Segment, index: int, component: int = 0) -> str:
    elements = segment[1]
    if index < len(elements) and component < len(elements[index]):
        return elements[index][component]
    return ""


def segment_facts(message: list[Segment]) -> tuple[dict[str, list[str]], list[Item]]:
    """The facts of one message (UNH … UNT) in the manifest's own notation."""
    facts: dict[str, list[str]] = {}
    items: list[Item] = []
    for segment in message:
        tag = segment[0]
        if tag == "BGM":
            facts.setdefault("doc", []).append(value(segment, 1))
            facts.setdefault("docname", []).append(joined(segment[1][0]))
            facts.setdefault("func", []).append(value(segment, 2))
        elif tag in ("DTM", "RFF"):
            facts.setdefault(tag + value(segment, 0), []).append(value(segment, 0, 1))
        elif tag == "CUX":
            facts.setdefault("cur", []).append(joined(segment[1][0]))
        elif tag == "NAD":
            facts.setdefault(value(segment, 0), []).append(value(segment, 1) or value(segment, 3))
        elif tag == "LIN":
            items.append(Item(value(segment, 2), value(segment, 2, 1), [], None))
        elif tag == "QTY" and items:
            items[-1].quantities.append((value(segment, 0), value(segment, 0, 1)))
        elif tag == "PRI" and items and items[-1].price is None:
            items[-1].price = (value(segment, 0), value(segment, 0, 1))
        elif tag == "UNS":
            break
    facts["lines"] = [str(len(items))]
    return facts, items


def tokenized(entry: CorpusEntry) -> tuple[Tokenizer, list[Segment]]:
    tokenizer = Tokenizer(entry.path.read_bytes())
    return tokenizer, list(tokenizer)


def only_message(found: list[Segment]) -> list[Segment]:
    start = next(i for i, s in enumerate(found) if s[0] == "UNH")
    end = next(i for i, s in enumerate(found) if s[0] == "UNT")
    return found[start : end + 1]


# -- tests -------------------------------------------------------------------------------------------------


def test_corpus_is_present_and_every_edifact_file_has_a_verdict() -> None:
    require_corpus()
    assert len(ENTRIES) >= 14
    for entry in ENTRIES:
        assert entry.path.is_file(), entry.file
        assert FORMAT.sniff(entry.path.read_bytes()[:4096]) == (entry.file != FRAGMENT)
    malformed = {entry.file for entry in ENTRIES if entry.family == "malformed"}
    assert malformed == set(REFUSED) | set(MESSAGE_ERRORS)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.file != FRAGMENT], ids=lambda e: e.file)
def test_segment_facts(entry: CorpusEntry) -> None:
    require_corpus()
    expected = parse_expected(entry.expected)
    tokenizer, found = tokenized(entry)
    if expected.separators is not None:
        assert tokenizer.una == expected.una
        assert tokenizer.separators.una[3:] == expected.separators
    message = only_message(found)
    unh = message[0]
    assert value(unh, 1) == expected.message_type
    assert joined(unh[1][1])[len(expected.message_type) + 1 :] == expected.version
    assert value(unh, 0) == expected.ref
    if expected.unt is not None:
        assert (int(value(message[-1], 0)), len(message)) == expected.unt
    facts, items = segment_facts(message)
    for key, values in expected.facts.items():
        assert sorted(facts.get(key, [])) == sorted(values), key
    if expected.items is not None:
        assert items == expected.items


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.file not in REFUSED], ids=lambda e: e.file)
def test_envelope_and_message_facts(entry: CorpusEntry) -> None:
    require_corpus()
    expected = parse_expected(entry.expected)
    header, messages = read(entry.path.read_bytes(), chunk_size=7)  # tiny chunks: boundaries everywhere
    assert (header.sender_id, header.sender_qualifier) == split_party(expected.header["sender"])
    assert (header.receiver_id, header.receiver_qualifier) == split_party(expected.header["recipient"])
    assert header.control_ref == expected.header["icref"]
    assert header.syntax == expected.header["syntax"]
    assert len(messages) == int(expected.header["messages"]) == int(entry.messages)
    (outcome,) = messages
    assert (outcome.message_type, outcome.version, outcome.message_ref) == (
        expected.message_type,
        expected.version,
        expected.ref,
    )
    assert outcome.supported == (expected.message_type == "ORDERS")
    if not outcome.supported:
        assert outcome.order is None
        assert [w.code for w in outcome.warnings].count(codes.UNSUPPORTED_MESSAGE) == 1
    wanted = MESSAGE_ERRORS.get(entry.file, [])
    found = [(e.code, e.segment, e.element) for e in outcome.errors if e.code.startswith("EDIFACT_")]
    if entry.file == "edifact/ordrsp_d01b_ean008_unoc_latin1_berryworks.edi":
        assert {f[0] for f in found} == {codes.NUMERIC}  # lorem ipsum where quantities belong
    else:
        assert found == wanted
    if expected.unt is not None and expected.unt[0] != expected.unt[1]:
        declared, actual = expected.unt
        unt = outcome.errors[0]
        assert unt.position == outcome.position + actual - 1
        assert f"count {declared} " in unt.message and f"the {actual} segments" in unt.message
    charset_warnings = [w for w in outcome.warnings if w.code == codes.CHARSET]
    if "charset violation" in entry.notes:
        assert charset_warnings and all(w.segment == "NAD" for w in charset_warnings)
    if "latin-1" in entry.notes:
        assert not charset_warnings
    if outcome.message_type == "ORDERS":
        check_order_facts(outcome, expected)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.file in REFUSED], ids=lambda e: e.file)
def test_refused_files(entry: CorpusEntry) -> None:
    require_corpus()
    code, segment = REFUSED[entry.file]
    with pytest.raises(ParseError) as info:
        read(entry.path.read_bytes())
    assert (info.value.code, info.value.segment) == (code, segment)
    assert info.value.position is not None


def test_orders_without_unz_carries_the_expected_order_once_completed() -> None:
    """The refusal is about the envelope only: with its UNZ the same bytes give the recorded order."""
    require_corpus()
    (entry,) = [e for e in ENTRIES if e.file == NO_UNZ]
    expected = parse_expected(entry.expected)
    data = entry.path.read_bytes().rstrip() + b"UNZ+1+" + expected.header["icref"].encode() + b"'"
    _, (outcome,) = read(data)
    assert not outcome.errors
    check_order_facts(outcome, expected)


def split_party(text: str) -> tuple[str, str | None]:
    parts = text.split(":")
    return parts[0], (parts[1] if len(parts) > 1 else None)


def check_order_facts(outcome: MessageOutcome, expected: Expected) -> None:
    order = outcome.order
    assert order is not None
    assert order.order_number == expected.facts["doc"][0]
    if "DTM137" in expected.facts:
        assert order.order_date == as_date(expected.facts["DTM137"][0])
    if "DTM2" in expected.facts:
        assert order.requested_delivery_date == as_date(expected.facts["DTM2"][0])
    for role, key in (("buyer", "BY"), ("seller", "SU"), ("ship_to", "DP")):
        for wanted in expected.facts.get(key, []):
            party = getattr(order, role)
            assert party is not None and wanted in [i.value for i in party.identifiers], role
    assert len(order.lines) == int(expected.facts["lines"][0])
    assert expected.items is not None
    for line, item in zip(order.lines, expected.items, strict=True):
        scheme = ITEM_SCHEMES.get(item.kind, f"EDIFACT:{item.kind}")
        assert (scheme, item.number) in [(i.scheme, i.value) for i in line.item_identifiers]
        quantities = dict(item.quantities)
        assert line.quantity == Decimal(quantities.get("21", quantities.get("1", "")).replace(",", "."))
        if item.price is not None and item.price[0] in ("AAA", "AAB"):
            assert line.unit_price == Decimal(item.price[1])


def as_date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
