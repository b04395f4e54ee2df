"""Handwritten X12 fixtures: a fixed-width ISA and envelopes whose counts are right, so that each test
can break exactly one thing. Segments are written with `*`; `document` swaps in other separators."""

from __future__ import annotations

from mappings.base import MessageOutcome, collect
from mappings.x12 import FORMAT


def isa(
    *,
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    isa11: str = "U",
    version: str = "00401",
    control: int = 1,
    sender: tuple[str, str] = ("ZZ", "SENDER"),
    receiver: tuple[str, str] = ("ZZ", "RECEIVER"),
    usage: str = "P",
    ack: str = "0",
) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender[0],
        sender[1].ljust(15),
        receiver[0],
        receiver[1].ljust(15),
        "240101",
        "1200",
        isa11,
        version,
        f"{control:09d}",
        ack,
        usage,
        component,
    ]
    return element.join(fields) + terminator


def transaction(set_type: str, control: str, body: list[str]) -> list[str]:
    return [f"ST*{set_type}*{control}", *body, f"SE*{len(body) + 2}*{control}"]


def group(*sets: list[str], control: str = "1", function: str = "PO", version: str = "004010") -> list[str]:
    return [
        f"GS*{function}*SENDER*RECEIVER*20240101*1200*{control}*X*{version}",
        *[segment for one in sets for segment in one],
        f"GE*{len(sets)}*{control}",
    ]


def document(
    *groups: list[str],
    control: int = 1,
    element: str = "*",
    terminator: str = "~",
    suffix: str = "\n",
    **isa_fields: object,
) -> str:
    segments = [segment for one in groups for segment in one] + [f"IEA*{len(groups)}*{control:09d}"]
    head = isa(element=element, terminator=terminator, control=control, **isa_fields)  # type: ignore[arg-type]
    return head + suffix + "".join(s.replace("*", element) + terminator + suffix for s in segments)


def order_850(*body: str, control: str = "0001") -> list[str]:
    """An 850 set with a BEG unless the body brings its own."""
    lines = list(body)
    if not any(line.startswith("BEG*") for line in lines):
        lines.insert(0, "BEG*00*SA*PO-1**20240101")
    return transaction("850", control, lines)


MINIMAL_850 = ["BEG*00*SA*PO-1**20240101", "CUR*BY*USD", "PO1*1*2*EA*3.5**IN*A-1", "CTT*1"]


def read(data: str | bytes) -> list[MessageOutcome]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return collect(FORMAT.read(raw))[1]


def only(data: str | bytes) -> MessageOutcome:
    [outcome] = read(data)
    return outcome


def codes(issues: list) -> list[str]:  # type: ignore[type-arg]
    return [issue.code for issue in issues]
