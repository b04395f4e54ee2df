"""Service characters of an interchange: what UNA announces, or the ISO 9735 defaults when it is absent."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.errors import ParseError
from mappings.edifact import codes

_NOT_USED = " "  # ISO 9735: a space in UNA position 4 or 5 means "no release / repetition character"


@dataclass(frozen=True, slots=True)
class Separators:
    """The six UNA characters. `release` and `repetition` are a space when not used.

    The repetition separator only exists from syntax version 4 on; in versions 1-3 UNA position 5 is
    reserved (a space). `effective_repetition` applies that rule, including the syntax 4 default `*`
    when no UNA is sent.
    """

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = _NOT_USED
    terminator: str = "'"

    @property
    def una(self) -> str:
        return (
            f"UNA{self.component}{self.element}{self.decimal}{self.release}{self.repetition}{self.terminator}"
        )

    @property
    def release_char(self) -> str | None:
        return None if self.release == _NOT_USED else self.release

    def effective_repetition(self, syntax_version: int, una_sent: bool) -> str | None:
        if syntax_version < 4:
            return None
        if una_sent:
            return None if self.repetition == _NOT_USED else self.repetition
        return "*"

    def is_default(self, syntax_version: int) -> bool:
        """True when a reader would assume these characters without a UNA (so none needs to be written).

        A space in the repetition position counts as the default too: "the syntax's own default", which
        is `*` from syntax 4 on.
        """
        base = self.component + self.element + self.decimal + self.release + self.terminator == ":+.?'"
        return base and (self.repetition == _NOT_USED or (syntax_version >= 4 and self.repetition == "*"))

    def validate(self) -> None:
        """Raise ValueError when the characters cannot delimit an interchange unambiguously."""
        functional = [self.component, self.element, self.terminator]
        functional += [c for c in (self.release, self.repetition) if c != _NOT_USED]
        for char in (*functional, self.decimal):
            if len(char) != 1 or not char.isascii():
                raise ValueError(f"service character {char!r} must be one ASCII character")
        if len(set(functional)) != len(functional):
            raise ValueError(f"service characters {''.join(functional)!r} are not all different")
        for char in functional:
            if char.isalnum() or (char in "\r\n" and char != self.terminator) or char == " ":
                raise ValueError(f"{char!r} cannot be a separator")
        if self.decimal not in ".,":
            raise ValueError(f"decimal mark {self.decimal!r} must be '.' or ','")
        if self.decimal in functional:
            raise ValueError(f"decimal mark {self.decimal!r} is also a separator")


DEFAULT = Separators()


def from_una(advice: bytes) -> Separators:
    """Separators from the six bytes after "UNA"; ParseError when they are unusable."""
    try:
        text = advice.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if len(text) != 6:
        raise ParseError(
            "the service string advice UNA must be followed by six ASCII service characters",
            code=codes.UNA_INVALID,
            segment="UNA",
        )
    separators = Separators(*text)
    try:
        separators.validate()
    except ValueError as error:
        raise ParseError(
            f"the service string advice UNA{text} is unusable: {error}", code=codes.UNA_INVALID, segment="UNA"
        ) from None
    return separators
