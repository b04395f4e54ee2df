"""ORDERS (D93A, D96A, D01B and their EANCOM subsets) → canonical order, in one pass over the segments.

Segment groups are tracked only as far as meaning depends on them: a DTM right after BGM is an order
date, after RFF it dates the reference; a QTY right after LIN is the ordered quantity, after LOC or SCC it
is a split delivery. So the mapper remembers which group trigger it saw last in the header and in the
line, and reads DTM, QTY, PIA and IMD only outside nested groups.

Text: IMD 7008 components are one description continued (concatenated); FTX 4440 components are text
lines (joined with a space). Header FTX are order notes, FTX inside a line are line notes. Header RFF
(segment group 1) are order references "EDIFACT:<qualifier>"; RFF directly under a NAD identify that
party ("EDIFACT:VA" for a VAT number); references inside lines have no home in the canonical order.

Speed: the header is read by one small method per segment tag; the detail section (LIN … UNS), which
is most of any order, is read by one loop whose state lives in local variables, because method calls and
attribute lookups per segment cost more there than the reading itself. The order is built as plain dicts
and validated once with `Order.model_validate`, about twice as fast as building the nested models.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.core.errors import Issue
from mappings.edifact import codes
from mappings.edifact.tokenizer import Segment
from mappings.edifact.values import DateProblem, comp, parse_date, parse_number, repetitions, text_of

PURPOSES = {
    "": "original",
    "9": "original",
    "5": "replace",
    "1": "cancel",
    "3": "cancel",  # deletion
    "4": "change",
    "6": "confirmation",
    "7": "duplicate",
    "31": "duplicate",  # copy: already sent, for information
}
PARTY_SCHEMES = {"9": "GLN", "16": "DUNS", "91": "SELLER", "92": "BUYER", "ZZZ": "PARTNER", "": "PARTNER"}
ITEM_SCHEMES = {
    "EN": "GTIN",
    "SRV": "GTIN",
    "UP": "UPC",
    "IB": "ISBN",
    "IN": "BUYER",
    "BP": "BUYER",
    "SA": "SELLER",
}
ROLES = {"BY": "buyer", "SU": "seller", "SE": "seller", "DP": "ship_to", "ST": "ship_to", "IV": "bill_to"}
ORDER_DATES = ("137", "4")  # document date, order date
# requested, earliest, latest, promised delivery: the first found in this order wins
DELIVERY_DATES = ("2", "64", "63", "69")
SHIP_DATES = ("10",)  # shipment date/time, requested

# Segments that open a nested group: after them, DTM/QTY/FTX no longer describe the order or the line.
_HEADER_GROUPS = frozenset(
    {"RFF", "NAD", "TAX", "CUX", "PAT", "TDT", "TOD", "PAC", "EQD", "SCC", "APR", "ALC", "RCS"}
)
_LINE_GROUPS = frozenset(
    {"PAT", "PRI", "RFF", "PAC", "LOC", "TAX", "NAD", "ALC", "TDT", "TOD", "EQD", "SCC", "RCS", "STG"}
)


class OrdersMapper:
    """Collects one ORDERS message into a dict shaped like `Order`, with the issues found on the way."""

    def __init__(self, source: dict[str, Any]) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.order: dict[str, Any] = {"order_number": "", "notes": [], "lines": [], "source": source}
        self._dates: dict[str, date] = {}
        self._group = ""  # last header group trigger
        self._party: dict[str, Any] | None = None
        self._role: str | None = None
        self._currency_usage = ""
        self._summary = False
        self._declared_lines: tuple[int, int] | None = None

    def run(self, segments: list[Segment]) -> dict[str, Any]:
        handlers = self._handlers
        rest = iter(segments)
        for segment in rest:
            if segment[0] == "LIN":
                self._detail(segment, rest)
                continue
            handler = handlers.get(segment[0])
            if handler is not None:
                handler(self, segment)
        self._end_party()
        self._finish()
        return self.order

    # -- header ------------------------------------------------------------------------------------------

    def _bgm(self, segment: Segment) -> None:
        elements = segment[1]
        self.order["order_number"] = comp(elements, 1)
        self.order["purpose"] = PURPOSES.get(comp(elements, 2), "other")

    def _dtm(self, segment: Segment) -> None:
        _, elements, position = segment
        c507 = elements[0] if elements else [""]
        qualifier = c507[0]
        if self._group or self._summary or qualifier in self._dates:
            return
        if qualifier not in ORDER_DATES and qualifier not in DELIVERY_DATES and qualifier not in SHIP_DATES:
            return
        try:
            self._dates[qualifier] = parse_date(
                c507[1] if len(c507) > 1 else "", c507[2] if len(c507) > 2 else ""
            )
        except DateProblem as problem:
            self._date_issue(problem, qualifier, position)

    def _date_issue(self, problem: DateProblem, qualifier: str, position: int) -> None:
        unsupported = problem.unsupported
        (self.warnings if unsupported else self.errors).append(
            Issue(
                code=codes.DATE_FORMAT if unsupported else codes.DATE,
                message=f"DTM {qualifier} at position {position}: {problem}",
                segment="DTM",
                position=position,
                element="2379" if unsupported else "2380",
                severity="warning" if unsupported else "error",
            )
        )

    def _ftx(self, segment: Segment) -> None:
        text = text_of(segment[1], 3)
        if text:
            self.order["notes"].append(text)

    def _rff(self, segment: Segment) -> None:
        qualifier, value = comp(segment[1], 0), comp(segment[1], 0, 1)
        if self._group == "NAD":
            if self._party is not None and qualifier and value:
                self._party["identifiers"].append({"scheme": f"EDIFACT:{qualifier}", "value": value})
            return
        self._end_party()
        self._group = "RFF"
        if qualifier and value and not self._summary:
            self.order.setdefault("references", []).append(
                {"qualifier": f"EDIFACT:{qualifier}", "value": value}
            )

    def _nad(self, segment: Segment) -> None:
        self._end_party()
        self._group = "NAD"
        elements = segment[1]
        role = ROLES.get(comp(elements, 0))
        self._role = role
        if role is None or role in self.order:  # a party ordergate has no place for, or a second one
            self._party = None
            return
        party: dict[str, Any] = {"identifiers": []}
        identifier = comp(elements, 1)
        if identifier:
            agency = comp(elements, 1, 2)
            scheme = PARTY_SCHEMES.get(agency) or f"EDIFACT:{agency}"
            party["identifiers"].append({"scheme": scheme, "value": identifier})
        name = text_of(elements, 3, 0, 5)
        unstructured = [t for t in elements[2] if t] if len(elements) > 2 else []
        street = [t for t in elements[4] if t] if len(elements) > 4 else []
        if not name and unstructured:  # C058: unstructured name and address lines
            name, unstructured = unstructured[0], unstructured[1:]
        if name:
            party["name"] = name
        address = {
            "street": street or unstructured,
            "city": comp(elements, 5) or None,
            "region": comp(elements, 6) or None,
            "postal_code": comp(elements, 7) or None,
            "country": comp(elements, 8) or None,
        }
        if any(address.values()):
            party["address"] = address
        self._party = party

    def _cta(self, segment: Segment) -> None:
        party = self._party
        if self._group != "NAD" or party is None:
            return
        if "contact" in party:
            party["_more_contacts"] = True  # a second CTA: its COM must not overwrite the first contact
            return
        party["contact"] = {"name": comp(segment[1], 1, 1) or comp(segment[1], 1, 0) or None}

    def _com(self, segment: Segment) -> None:
        party = self._party
        if self._group != "NAD" or party is None or party.get("_more_contacts") or not segment[1]:
            return
        contact = party.setdefault("contact", {})
        for channel in repetitions(segment[1][0]):
            number = channel[0]
            kind = channel[1] if len(channel) > 1 else ""
            if kind == "TE" and number and not contact.get("phone"):
                contact["phone"] = number
            elif kind == "EM" and number and not contact.get("email"):
                contact["email"] = number

    def _cux(self, segment: Segment) -> None:
        self._end_party()
        self._group = "CUX"
        _, elements, position = segment
        usage, currency = comp(elements, 0), comp(elements, 0, 1)
        if not currency or self._summary:
            return
        if "currency" in self.order and (self._currency_usage == "2" or usage != "2"):
            return  # the first currency wins, unless a later one is the reference currency (usage 2)
        self._currency_usage = usage
        self.order["currency"] = currency
        if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
            self.warnings.append(
                Issue(
                    code=codes.CURRENCY_CODE,
                    message=f"currency {currency!r} at position {position} is not an ISO 4217 code",
                    segment="CUX",
                    position=position,
                    element="6345",
                    severity="warning",
                )
            )

    def _group_trigger(self, segment: Segment) -> None:
        self._end_party()
        self._group = segment[0]

    def _end_party(self) -> None:
        party, self._party = self._party, None
        if party is None or self._role is None:
            return
        party.pop("_more_contacts", None)
        contact = party.get("contact")
        if contact is not None and not any(contact.values()):
            del party["contact"]
        self.order[self._role] = party

    # -- detail section ----------------------------------------------------------------------------------

    def _detail(self, lin: Segment, rest: Iterator[Segment]) -> None:
        """LIN … UNS. `group` is the last group trigger inside the line: DTM, QTY, PIA and IMD count only
        before any, FTX anywhere in the line."""
        self._end_party()
        lines: list[dict[str, Any]] = self.order["lines"]
        line, items = self._new_line(lin, len(lines) + 1)
        position = lin[2]
        group = ""
        quantities: dict[str, tuple[Decimal, str | None]] = {}
        prices: dict[str, tuple[Decimal, Decimal | None]] = {}
        dates: dict[str, date] = {}
        free_form = False  # the description came from a free-form IMD (F)
        for segment in rest:
            tag = segment[0]
            elements = segment[1]
            if tag == "QTY":
                if not group and elements:
                    c186 = elements[0]
                    if len(c186) > 1 and c186[0] not in quantities:
                        quantity = parse_number(c186[1])  # a malformed one was reported by content checks
                        if quantity is not None:
                            quantities[c186[0]] = (quantity, c186[2] if len(c186) > 2 and c186[2] else None)
            elif tag == "PRI":
                group = "PRI"
                if elements:
                    c509 = elements[0]
                    if len(c509) > 1 and c509[0] not in prices:
                        price = parse_number(c509[1])
                        if price is not None:
                            basis = parse_number(c509[4]) if len(c509) > 4 and c509[4] else None
                            prices[c509[0]] = (price, basis)
            elif tag == "DTM":
                if not group and elements:
                    c507 = elements[0]
                    qualifier = c507[0]
                    if qualifier in DELIVERY_DATES and qualifier not in dates:
                        try:
                            dates[qualifier] = parse_date(
                                c507[1] if len(c507) > 1 else "", c507[2] if len(c507) > 2 else ""
                            )
                        except DateProblem as problem:
                            self._date_issue(problem, qualifier, segment[2])
            elif tag == "PIA":
                if not group:
                    for c212 in elements[1:]:
                        if c212[0]:
                            _add_item(line, items, c212[0], c212[1] if len(c212) > 1 else "")
            elif tag == "IMD":
                if not group and not free_form and len(elements) > 2:
                    text = "".join(elements[2][3:5])
                    if text and (elements[0][0] == "F" or "description" not in line):
                        line["description"] = text
                        free_form = elements[0][0] == "F"
            elif tag == "LIN":
                lines.append(self._end_line(line, items, quantities, prices, dates, position))
                line, items = self._new_line(segment, len(lines) + 1)
                position = segment[2]
                group = ""
                quantities, prices, dates = {}, {}, {}
                free_form = False
            elif tag == "FTX":
                text = text_of(elements, 3)
                if text:
                    line["notes"].append(text)
            elif tag == "UNS":
                break
            elif tag in _LINE_GROUPS:
                group = tag
        lines.append(self._end_line(line, items, quantities, prices, dates, position))
        self._summary = True

    def _new_line(self, lin: Segment, index: int) -> tuple[dict[str, Any], dict[str, str]]:
        elements, position = lin[1], lin[2]
        number = elements[0][0] if elements else ""
        if not number:
            number = str(index)
            self.warnings.append(
                Issue(
                    code=codes.LINE_NUMBER_MISSING,
                    message=f"LIN at position {position} has no line number; the line's position {number} is used",
                    segment="LIN",
                    position=position,
                    element="1082",
                    severity="warning",
                )
            )
        line: dict[str, Any] = {"line_number": number, "item_identifiers": [], "notes": []}
        items: dict[str, str] = {}
        if len(elements) > 2 and elements[2][0]:
            c212 = elements[2]
            _add_item(line, items, c212[0], c212[1] if len(c212) > 1 else "")
        return line, items

    def _end_line(
        self,
        line: dict[str, Any],
        items: dict[str, str],
        quantities: dict[str, tuple[Decimal, str | None]],
        prices: dict[str, tuple[Decimal, Decimal | None]],
        dates: dict[str, date],
        position: int,
    ) -> dict[str, Any]:
        # QTY 21 ordered quantity, else 1 discrete quantity (some EANCOM subsets)
        quantity = quantities.get("21") or quantities.get("1")
        if quantity is None:
            self.errors.append(
                Issue(
                    code=codes.QUANTITY_MISSING,
                    message=f"line {line['line_number']} (LIN at position {position}) has no readable ordered "
                    "quantity (QTY 21)",
                    segment="LIN",
                    position=position,
                )
            )
            line["quantity"] = Decimal(0)
        else:
            line["quantity"], line["unit"] = quantity
        if prices:  # PRI AAA net, else AAB gross, else whatever price was sent
            line["unit_price"], basis = prices.get("AAA") or prices.get("AAB") or next(iter(prices.values()))
            if basis is not None and basis != 1:
                line["price_basis_quantity"] = basis
        if dates:
            line["requested_delivery_date"] = next(dates[q] for q in DELIVERY_DATES if q in dates)
        if items:
            if "GTIN" in items:
                line["gtin"] = items["GTIN"]
            if "BUYER" in items:
                line["buyer_item_id"] = items["BUYER"]
            seller = items.get("SELLER") or items.get("EDIFACT:MF")  # else the manufacturer's article number
            if seller:
                line["seller_item_id"] = seller
        return line

    # -- summary -----------------------------------------------------------------------------------------

    def _uns(self, segment: Segment) -> None:
        self._end_party()
        self._summary = True

    def _cnt(self, segment: Segment) -> None:
        if comp(segment[1], 0) == "2":
            value = parse_number(comp(segment[1], 0, 1))
            if value is not None:
                self._declared_lines = (int(value), segment[2])

    def _finish(self) -> None:
        order = self.order
        dates = self._dates
        for field, qualifiers in (
            ("order_date", ORDER_DATES),
            ("requested_delivery_date", DELIVERY_DATES),
            ("requested_ship_date", SHIP_DATES),
        ):
            found = next((dates[q] for q in qualifiers if q in dates), None)
            if found is not None:
                order[field] = found
        if self._declared_lines is not None:
            declared, position = self._declared_lines
            if declared != len(order["lines"]):
                self.warnings.append(
                    Issue(
                        code=codes.LINE_COUNT,
                        message=f"CNT at position {position} declares {declared} lines but the message has "
                        f"{len(order['lines'])}",
                        segment="CNT",
                        position=position,
                        element="6066",
                        severity="warning",
                    )
                )

    _handlers = {
        "BGM": _bgm,
        "DTM": _dtm,
        "FTX": _ftx,
        "RFF": _rff,
        "NAD": _nad,
        "CTA": _cta,
        "COM": _com,
        "CUX": _cux,
        "UNS": _uns,
        "CNT": _cnt,
        **dict.fromkeys(_HEADER_GROUPS - {"RFF", "NAD", "CUX"}, _group_trigger),
    }


def _add_item(line: dict[str, Any], items: dict[str, str], value: str, kind: str) -> None:
    """Record an item number once; `items` keeps the first number of each scheme."""
    scheme = ITEM_SCHEMES.get(kind) or f"EDIFACT:{kind}"
    identifiers: list[dict[str, str]] = line["item_identifiers"]
    if scheme not in items:
        items[scheme] = value
    elif items[scheme] == value or {"scheme": scheme, "value": value} in identifiers:
        return
    identifiers.append({"scheme": scheme, "value": value})
