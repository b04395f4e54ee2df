"""What a transaction-set reader knows about the envelope around the set it translates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.core.errors import Issue
from mappings.base import InterchangeHeader, MessageOutcome
from mappings.x12.isa import Separators


@dataclass(frozen=True, slots=True)
class SetContext:
    header: InterchangeHeader
    separators: Separators
    set_type: str  # ST01
    control_ref: str  # ST02
    position: int  # of the ST segment in the interchange; body segment i is at position + 1 + i
    group_ref: str | None  # GS06
    version: str | None  # GS08, e.g. "004010" or "004010VICS"


SetReader = Callable[[list[list[str]], SetContext], MessageOutcome]
"""Translates the segments between ST and SE (both excluded) into an outcome."""


def issue(
    code: str,
    message: str,
    segment: str,
    position: int,
    element: str | None = None,
    *,
    warning: bool = False,
) -> Issue:
    return Issue(
        code=code,
        message=message,
        segment=segment,
        position=position,
        element=element,
        severity="warning" if warning else "error",
    )
