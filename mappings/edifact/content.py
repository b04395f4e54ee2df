"""Element-level syntax checks that apply to any message: segment tags, code lengths, numeric values.

Table-driven and limited to the segments ordergate reads or that carry amounts, so that a malformed
element (a quantity "1020A", a party qualifier "BYZZ") becomes an issue naming segment, position and
data element in that message's errors, whatever the message type, instead of an exception or a silently
wrong value. The mappers then read values leniently (an unreadable number is None) since the problem has
already been reported here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.core.errors import Issue
from mappings.edifact import codes
from mappings.edifact.tokenizer import Segment
from mappings.edifact.values import parse_number

NUMERIC = 0  # marker in the rule table: the data element is numeric
# tag → ((element index after the tag, component index, data element id, max code length or NUMERIC), …)
RULES: dict[str, tuple[tuple[int, int, str, int], ...]] = {
    "BGM": ((2, 0, "1225", 3),),
    "DTM": ((0, 0, "2005", 3),),
    "FTX": ((0, 0, "4451", 3),),
    "RFF": ((0, 0, "1153", 3),),
    "NAD": ((0, 0, "3035", 3), (1, 2, "3055", 3)),
    "CTA": ((0, 0, "3139", 3),),
    "COM": ((0, 1, "3155", 3),),
    "CUX": ((0, 0, "6347", 3), (0, 1, "6345", 3)),
    "LIN": ((2, 1, "7143", 3),),
    "PIA": ((0, 0, "4347", 3), (1, 1, "7143", 3)),
    "IMD": ((0, 0, "7077", 3),),
    "QTY": ((0, 0, "6063", 3), (0, 1, "6060", NUMERIC)),
    "PRI": ((0, 0, "5125", 3), (0, 1, "5118", NUMERIC), (0, 4, "5284", NUMERIC)),
    "MOA": ((0, 0, "5025", 3), (0, 1, "5004", NUMERIC)),
    "CNT": ((0, 0, "6069", 3), (0, 1, "6066", NUMERIC)),
}

NAMES = {
    "1225": "message function code",
    "2005": "date/time qualifier",
    "4451": "text subject qualifier",
    "1153": "reference qualifier",
    "3035": "party qualifier",
    "3055": "code list agency",
    "3139": "contact function code",
    "3155": "communication channel qualifier",
    "6347": "currency usage qualifier",
    "6345": "currency code",
    "7143": "item number type",
    "4347": "product id function qualifier",
    "7077": "description format code",
    "6063": "quantity qualifier",
    "6060": "quantity",
    "5125": "price qualifier",
    "5118": "price",
    "5284": "price basis quantity",
    "5025": "amount qualifier",
    "5004": "amount",
    "6069": "control qualifier",
    "6066": "control value",
}

_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")
_valid_tags: set[str] = set()  # bounded: at most 26 * 36 * 36 valid tags


def valid_tag(tag: str) -> bool:
    if tag in _valid_tags:
        return True
    if _TAG.fullmatch(tag):
        _valid_tags.add(tag)
        return True
    return False


# The same rules grouped by element, so each element is fetched once: tag → ((index, ((component, id,
# limit), …)), …). Built from RULES, which stays the readable source.
_BY_ELEMENT: dict[str, tuple[tuple[int, tuple[tuple[int, str, int], ...]], ...]] = {
    tag: tuple(
        (index, tuple((c, e, limit) for i, c, e, limit in rules if i == index))
        for index in sorted({rule[0] for rule in rules})
    )
    for tag, rules in RULES.items()
}


def check_segments(segments: Iterable[Segment], errors: list[Issue]) -> None:
    """Append an issue for every malformed tag, over-long code or non-numeric number."""
    by_element = _BY_ELEMENT
    for tag, elements, position in segments:
        rules = by_element.get(tag)
        if rules is None:
            if tag not in _valid_tags and not valid_tag(tag):
                errors.append(_bad_tag(tag, position))
            continue
        count = len(elements)
        for index, checks in rules:
            if index >= count:
                break
            element = elements[index]
            size = len(element)
            for component, element_id, limit in checks:
                if component < size and element[component]:
                    value = element[component]
                    if limit:
                        if len(value) > limit:
                            errors.append(_too_long(tag, element_id, value, position, limit))
                    elif parse_number(value) is None:  # cached: the mapper reads the same value next
                        errors.append(_not_a_number(tag, element_id, value, position))


def _bad_tag(tag: str, position: int) -> Issue:
    return Issue(
        code=codes.SEGMENT_TAG,
        message=f"segment at position {position} has no valid tag ({tag[:10]!r}): "
        "a segment tag is three upper-case letters or digits",
        segment=tag[:3] or None,
        position=position,
    )


def _too_long(tag: str, element_id: str, value: str, position: int, limit: int) -> Issue:
    return Issue(
        code=codes.CODE_LENGTH,
        message=f"{tag} {NAMES[element_id]} {value!r} at position {position} is longer than "
        f"the {limit} characters the code allows",
        segment=tag,
        position=position,
        element=element_id,
    )


def _not_a_number(tag: str, element_id: str, value: str, position: int) -> Issue:
    return Issue(
        code=codes.NUMERIC,
        message=f"{tag} {NAMES[element_id]} {value!r} at position {position} is not a number",
        segment=tag,
        position=position,
        element=element_id,
    )
