"""What happens to a message by type: ORDERS is translated, anything else is named in plain words.

Every message, supported or not, gets the element checks of `content`, so a malformed quantity is
reported whatever the message type.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway.core.canonical import Order
from gateway.core.checks import check_order
from gateway.core.errors import Issue
from mappings.base import MessageOutcome
from mappings.edifact import codes
from mappings.edifact.content import check_segments
from mappings.edifact.orders import OrdersMapper
from mappings.edifact.tokenizer import Segment

SUPPORTED = frozenset({"ORDERS"})

NAMES = {
    "ORDERS": "purchase order",
    "ORDCHG": "purchase order change request",
    "ORDRSP": "purchase order response",
    "INVOIC": "invoice",
    "DESADV": "despatch advice",
    "RECADV": "receiving advice",
    "APERAK": "application error and acknowledgement",
    "CONTRL": "syntax and service report",
    "PRICAT": "price/sales catalogue",
    "INVRPT": "inventory report",
    "SLSRPT": "sales data report",
    "REMADV": "remittance advice",
    "DELFOR": "delivery schedule",
    "DELJIT": "delivery just in time",
    "IFTMIN": "transport instruction",
    "IFTSTA": "transport status",
    "PARTIN": "party information",
    "QUOTES": "quote",
    "REQOTE": "request for quote",
    "PAYMUL": "multiple payment order",
    "CREMUL": "multiple credit advice",
    "DEBMUL": "multiple debit advice",
    "BANSTA": "banking status",
    "COPRAR": "container discharge/loading order",
    "MSCONS": "metered services consumption report",
    "UTILMD": "utilities master data",
    "PRODAT": "product data",
    "OSTENQ": "order status enquiry",
    "OSTRPT": "order status report",
    "HANMOV": "cargo/goods handling and movement",
    "INSDES": "instruction to despatch",
}


def describe(message_type: str) -> str:
    name = NAMES.get(message_type)
    if name:
        return f"{message_type} ({name})"
    return f"{message_type or 'a message without a type'} (a message type ordergate does not know)"


def unsupported(message_type: str, position: int) -> Issue:
    return Issue(
        code=codes.UNSUPPORTED_MESSAGE,
        message=f"{describe(message_type)} is not an order; ordergate does not take it in yet",
        segment="UNH",
        position=position,
        severity="warning",
    )


def standard_version(version: str | None) -> str | None:
    """ "D:96A:UN:EAN008" → "D96A:EAN008" (directory, then the association-assigned code when there is one)."""
    if not version:
        return None
    parts = version.split(":")
    directory = "".join(parts[:2])
    association = parts[3] if len(parts) > 3 else ""
    return f"{directory}:{association}" if association else directory or None


def translate(outcome: MessageOutcome, body: list[Segment], base_source: dict[str, Any]) -> None:
    """Fill `outcome` for the segments between UNH and UNT: its order, errors and warnings."""
    check_segments(body, outcome.errors)
    if outcome.message_type not in SUPPORTED:
        outcome.supported = False
        outcome.warnings.append(unsupported(outcome.message_type, outcome.position))
        return
    source = {
        **base_source,
        "message_type": outcome.message_type,
        "standard_version": standard_version(outcome.version),
        "group_control_ref": outcome.group_ref,
        "message_control_ref": outcome.message_ref,
    }
    mapper = OrdersMapper(source)
    data = mapper.run(body)
    outcome.errors.extend(mapper.errors)
    outcome.warnings.extend(mapper.warnings)
    try:
        order = Order.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        outcome.errors.append(
            Issue(
                code=codes.MAPPING,
                message=f"message {outcome.message_ref!r} cannot form an order: {where}: {problem['msg']}",
                segment="UNH",
                position=outcome.position,
            )
        )
        return
    outcome.order = order
    for issue in check_order(order):
        (outcome.errors if issue.severity == "error" else outcome.warnings).append(issue)
