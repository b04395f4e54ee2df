"""How a UBL or cXML document ends up as a message outcome: named and skipped when it is not an order,
else mapped, with the values' issues, a mapping failure located on the document, and the business
checks sorted into errors and warnings."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from pydantic import ValidationError

from gateway.core.canonical import Order
from gateway.core.checks import check_order
from gateway.core.errors import Issue
from mappings.base import MessageOutcome
from mappings.xml.fields import Fields
from mappings.xml.paths import path_of

UNSUPPORTED_MESSAGE = "UNSUPPORTED_MESSAGE"


def not_an_order(outcome: MessageOutcome, message: str, element: etree._Element) -> MessageOutcome:
    """The outcome of a readable document that is not an order (translate refuses it as NOT_AN_ORDER)."""
    outcome.supported = False
    outcome.warnings.append(
        Issue(
            code=UNSUPPORTED_MESSAGE,
            message=message,
            segment=path_of(element),
            position=outcome.position,
            severity="warning",
        )
    )
    return outcome


def map_order(
    outcome: MessageOutcome,
    fields: Fields,
    build: Callable[[], Order],
    *,
    code: str,
    what: str,
    element: etree._Element,
) -> MessageOutcome:
    """Build the order; a model the values cannot form becomes an issue `code` naming `what`."""
    try:
        outcome.order = build()
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        fields.errors.append(
            Issue(
                code=code,
                message=f"the {what} cannot form an order: {where}: {problem['msg']}",
                segment=path_of(element),
                position=outcome.position,
            )
        )
    outcome.errors.extend(fields.errors)
    outcome.warnings.extend(fields.warnings)
    if outcome.order is not None:
        for found in check_order(outcome.order):
            (outcome.errors if found.severity == "error" else outcome.warnings).append(found)
    return outcome
