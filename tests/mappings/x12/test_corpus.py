"""Every X12 file of the shared corpus (x12/ and the X12 ones in malformed/) against the facts its
MANIFEST row records in `expected`: separators, ISA/GS/ST control numbers and counts, and for 850s the
PO number, date, N1 parties and every line listed. The expectations are parsed here from the manifest
text, not derived from the code under test."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from gateway.core.canonical import Identifier
from gateway.core.errors import ParseError
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.x12 import FORMAT
from mappings.x12.tokenizer import Tokenizer
from tests.corpus import CorpusEntry, manifest, require_corpus

pytestmark = pytest.mark.corpus

# The standard's meanings, written out independently of mappings.x12.codes.
PURPOSE = {
    "00": "original",
    "01": "cancel",
    "04": "change",
    "05": "replace",
    "06": "confirmation",
    "07": "duplicate",
}
ROLE = {"BY": "buyer", "ST": "ship_to", "BT": "bill_to", "SE": "seller", "VN": "seller", "SU": "seller"}
PARTY_SCHEME = {"1": "DUNS", "9": "DUNS+4", "UL": "GLN", "92": "BUYER", "91": "SELLER", "ZZ": "PARTNER"}
ITEM_SCHEME = {"UP": "UPC", "EN": "GTIN", "UK": "GTIN", "IN": "BUYER", "BP": "BUYER", "CB": "BUYER",
               "VN": "SELLER", "VP": "SELLER", "VC": "SELLER", "SK": "SELLER"}  # fmt: skip
SET_NAME = {
    "810": "invoice",
    "846": "inventory inquiry/advice",
    "855": "purchase order acknowledgment",
    "856": "ship notice/manifest",
    "875": "grocery products purchase order",
    "940": "warehouse shipping order",
    "997": "functional acknowledgment",
    "TA1": "interchange acknowledgment",
}


def is_x12(entry: CorpusEntry) -> bool:
    return entry.file.startswith("x12/") or (entry.family == "malformed" and entry.message_type[:3].isdigit())


FREE_TEXT = {"x12/997_5010_three_interchanges_staedi.edi", "x12/ta1_4010_interchange_ack_only_oopfactory.edi"}
"""Rows whose `expected` is prose rather than key=value facts: each has its own test below."""


def x12_files() -> list[str]:
    found = [entry.file for entry in manifest() if is_x12(entry) and entry.file not in FREE_TEXT]
    return found or ["(corpus missing)"]


def entry_for(file: str) -> CorpusEntry:
    require_corpus()
    return next(entry for entry in manifest() if entry.file == file)


# -- the `expected` column ----------------------------------------------------------------------------------


@dataclass
class ExpectedSet:
    set_type: str
    control: str
    se01: int
    actual: int
    facts: dict[str, str] = field(default_factory=dict)
    parties: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)
    line_count: int | None = None


@dataclass
class Expected:
    interchange: dict[str, str]
    groups: list[dict[str, str]]
    trailer: dict[str, str]
    sets: list[ExpectedSet]
    transactions: int


def split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside [brackets] (line lists use " ; " inside brackets)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def key_values(text: str) -> dict[str, str]:
    found = re.findall(r"(\w+)=('[^']*'|.*?)(?= \w+=|$)", text)
    return {key: value[1:-1] if value.startswith("'") else value for key, value in found}


def parse_set(text: str) -> ExpectedSet:
    head, *facts = (part.strip() for part in text.split(" | "))
    set_type, control = re.fullmatch(r"ST (\w+) ctl=(\S+)", head).groups()  # type: ignore[union-attr]
    counts = key_values(facts.pop(0))
    found = ExpectedSet(set_type, control, int(counts["SE01"]), int(counts["actual"]))
    for fact in facts:
        if fact.startswith("N1 "):
            role, _, rest = fact[3:].partition("=")
            name, slash, ident = rest.rpartition("/")
            if slash and re.match(r"[A-Z0-9]{1,3}:", ident):
                qualifier, _, value = ident.partition(":")
                found.parties.append((role, name, qualifier, value))
            else:
                found.parties.append((role, rest, None, None))
        elif fact.startswith("lines="):
            count, _, listed = fact[6:].partition(" ")
            found.line_count = int(count)
            found.lines = [
                item.split(" ", 1)[1].split("*") for item in listed.strip("[]").split(" ; ") if item
            ]
        else:
            key, _, value = fact.partition("=")
            found.facts[key] = value
    return found


def parse_expected(text: str) -> Expected:
    parts = split_top(text, ";")
    interchange = key_values(parts[0])
    groups = [key_values(p) for p in parts if p.startswith("GS01=")]
    trailer = next(key_values(p) for p in parts if p.startswith("IEA01="))
    sets = [parse_set(p) for p in parts if p.startswith("ST ")]
    transactions = int(next(p for p in parts if p.startswith("transactions="))[13:])
    return Expected(interchange, groups, trailer, sets, transactions)


TERMINATORS = {"CRLF": "\r", "\\n": "\n"}  # CRLF: CR terminates, the LF is white space before the next tag


def expected_date(sent: str) -> date:
    if len(sent) == 6:
        sent = ("20" if int(sent[:2]) < 50 else "19") + sent
    return date(int(sent[:4]), int(sent[4:6]), int(sent[6:8]))


# -- reading ----------------------------------------------------------------------------------------------


@dataclass
class Read:
    headers: list[InterchangeHeader]
    outcomes: list[MessageOutcome]
    error: ParseError | None


def read_all(data: bytes) -> Read:
    headers: list[InterchangeHeader] = []
    outcomes: list[MessageOutcome] = []
    try:
        for event in FORMAT.read(data):
            (headers if isinstance(event, InterchangeHeader) else outcomes).append(event)  # type: ignore[arg-type]
    except ParseError as error:
        return Read(headers, outcomes, error)
    return Read(headers, outcomes, None)


def expected_rejection(notes: str) -> str | None:
    """Control-number mismatches the notes record, in the order the reader meets them (GE before IEA)."""
    if re.search(r"GE02=\S+ does not match GS06", notes):
        return "X12_GE_CONTROL"
    if re.search(r"IEA02=\S+ does not match ISA13", notes):
        return "X12_IEA_CONTROL"
    return None


# -- tests ------------------------------------------------------------------------------------------------


def test_the_corpus_has_x12_files_to_test() -> None:
    require_corpus()
    files = [f for f in x12_files() if f.startswith("x12/")]
    assert len(files) >= 15
    assert any(f.startswith("malformed/") for f in x12_files())
    prose = {entry.file for entry in manifest() if is_x12(entry) and not entry.expected.startswith("elem=")}
    assert prose == FREE_TEXT


@pytest.mark.parametrize("file", x12_files())
def test_corpus_file(file: str) -> None:
    entry = entry_for(file)
    expected = parse_expected(entry.expected)
    data = entry.path.read_bytes()
    assert FORMAT.sniff(data[:4096])
    check_tokens(data, expected)
    result = read_all(data)

    rejection = expected_rejection(entry.notes)
    if rejection is None:
        assert result.error is None, result.error
    else:
        assert result.error is not None and result.error.code == rejection

    [header] = result.headers
    facts = expected.interchange
    assert f"{header.sender_qualifier}:{header.sender_id}" == facts["sender"]
    assert f"{header.receiver_qualifier}:{header.receiver_id}" == facts["receiver"]
    assert header.control_ref == facts["ISA13"]
    assert header.syntax == facts["ISA12"]
    assert header.test == (facts["usage"] == "T")

    assert len(result.outcomes) == expected.transactions == len(expected.sets)
    group_of = [g for g in expected.groups for _ in range(int(g["sets"]))]
    for outcome, wanted, in_group in zip(result.outcomes, expected.sets, group_of, strict=True):
        assert (outcome.message_type, outcome.message_ref) == (wanted.set_type, wanted.control)
        assert (outcome.group_ref, outcome.version) == (in_group["GS06"], in_group["GS08"])
        se_problems = [e for e in outcome.errors if e.code.startswith("X12_SE_")]
        assert bool(se_problems) == (wanted.se01 != wanted.actual)
        if not re.fullmatch(r"00[2-9]\d\d", facts["ISA12"]):
            assert "X12_ISA_VERSION" in [w.code for w in outcome.warnings]
        if wanted.set_type == "850":
            check_850(outcome, wanted)
        else:
            check_unsupported(outcome, wanted.set_type)


def check_tokens(data: bytes, expected: Expected) -> None:
    """Separators and envelope elements as the tokenizer sees them."""
    tokenizer = Tokenizer(data)
    found: dict[str, list[list[str]]] = {}
    try:
        for _, fields in tokenizer:
            found.setdefault(fields[0], []).append(fields)
    except ParseError:  # pragma: no cover - the envelope test reports it
        pass
    assert tokenizer.isa is not None
    separators, facts = tokenizer.isa.separators, expected.interchange
    assert separators.element == facts["elem"]
    assert separators.component == facts["comp"]
    assert separators.segment == TERMINATORS.get(facts["term"], facts["term"])
    [isa] = found["ISA"]
    assert (isa[11], isa[12], isa[13]) == (facts["ISA11"], facts["ISA12"], facts["ISA13"])
    assert [(gs[1], gs[6], gs[8]) for gs in found["GS"]] == [
        (g["GS01"], g["GS06"], g["GS08"]) for g in expected.groups
    ]
    assert [ge[1] for ge in found["GE"]] == [g["GE01"] for g in expected.groups]
    assert [(st[1], st[2]) for st in found["ST"]] == [(s.set_type, s.control) for s in expected.sets]
    assert [int(se[1]) for se in found["SE"]] == [s.se01 for s in expected.sets]
    [iea] = found["IEA"]
    assert iea[1] == expected.trailer["IEA01"] == expected.trailer["groups"]


def check_unsupported(outcome: MessageOutcome, set_type: str) -> None:
    assert (outcome.supported, outcome.order) == (False, None)
    [warning] = [w for w in outcome.warnings if w.code == "UNSUPPORTED_MESSAGE"]
    assert f"{set_type} ({SET_NAME[set_type]})" in warning.message


def check_850(outcome: MessageOutcome, wanted: ExpectedSet) -> None:
    order = outcome.order
    assert outcome.supported and order is not None
    assert not [e for e in outcome.errors if e.code.startswith("X12_")], outcome.errors
    beg = wanted.facts["BEG"].split("*")
    assert order.purpose == PURPOSE[beg[0]]
    assert order.order_number == beg[2]
    assert order.order_date == expected_date(beg[4])

    seen_roles: set[str] = set()
    for code, name, qualifier, value in wanted.parties:
        role = ROLE.get(code)
        if role is None or role in seen_roles:
            continue
        seen_roles.add(role)
        party = getattr(order, role)
        assert party is not None, role
        assert party.name == name or party.name.startswith(name + ", ")  # N2 continues the name
        scheme = PARTY_SCHEME.get(qualifier or "", f"X12:{qualifier}")
        assert party.identifiers == ([Identifier(scheme=scheme, value=value)] if value else [])

    assert len(order.lines) == wanted.line_count == len(wanted.lines)
    for position, (line, sent) in enumerate(zip(order.lines, wanted.lines, strict=True), start=1):
        sent = sent + [""] * (5 - len(sent))
        assert line.line_number == (sent[0] or str(position))
        assert line.quantity == Decimal(sent[1])
        assert line.unit == (sent[2] or None)
        assert line.unit_price == (Decimal(sent[3]) if sent[3] else None)
        listed = [
            Identifier(scheme=ITEM_SCHEME.get(q, f"X12:{q}"), value=v)
            for q, v in zip(sent[5::2], sent[6::2], strict=False)
        ]
        assert line.item_identifiers[: len(listed)] == listed
        for scheme, attribute in (("BUYER", "buyer_item_id"), ("SELLER", "seller_item_id")):
            first = next((i.value for i in listed if i.scheme == scheme), None)
            if first is not None:
                assert getattr(line, attribute) == first
    ctt_count = wanted.facts.get("CTT", "").split("*")[0]
    if ctt_count and int(ctt_count) == len(wanted.lines):
        assert "X12_CTT_COUNT" not in [w.code for w in outcome.warnings]
    missing_numbers = sum(1 for sent in wanted.lines if not sent[0])
    assert [w.code for w in outcome.warnings].count("X12_LINE_NUMBER_MISSING") == missing_numbers


def test_three_concatenated_interchanges() -> None:
    entry = entry_for("x12/997_5010_three_interchanges_staedi.edi")
    assert "3 ISA/IEA interchanges" in entry.expected
    result = read_all(entry.path.read_bytes())
    assert result.error is None
    assert [h.control_ref for h in result.headers] == ["000000001", "000000002", "000000003"]
    assert [(o.message_type, o.message_ref, o.supported) for o in result.outcomes] == [
        ("997", "0001", False)
    ] * 3
    assert not [e for o in result.outcomes for e in o.errors]


def test_interchange_acknowledgment_only() -> None:
    entry = entry_for("x12/ta1_4010_interchange_ack_only_oopfactory.edi")
    data = entry.path.read_bytes()
    tokenizer = Tokenizer(data)
    tags = [fields[0] for _, fields in tokenizer]
    assert tags == ["ISA", "TA1", "TA1", "IEA"]  # 2 TA1, no GS/ST, IEA01=0
    assert tokenizer.isa is not None and tokenizer.isa.separators.component == "^"
    result = read_all(data)
    assert result.error is None and len(result.headers) == 1
    assert [(o.message_type, o.message_ref) for o in result.outcomes] == [("TA1", "0659"), ("TA1", "0660")]
    for outcome in result.outcomes:
        check_unsupported(outcome, "TA1")


def test_other_corpus_documents_are_not_sniffed_as_x12() -> None:
    require_corpus()
    others = [entry for entry in manifest() if not is_x12(entry)]
    assert others
    for entry in others:
        assert not FORMAT.sniff(entry.path.read_bytes()[:4096]), entry.file
