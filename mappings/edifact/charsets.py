"""Character sets named by the UNB syntax identifier (S001 0001), and what to do with bytes that don't fit.

Decision for bytes that don't fit the declared set (undefined in it, or C1 control characters, which no
EDIFACT repertoire contains): the affected segment is decoded as UTF-8 when the bytes are valid UTF-8
(the usual cause is a sender writing UTF-8 under UNOA or UNOC), otherwise as declared when the declared
codec can read it, otherwise as ISO 8859-1 (which reads any byte). The message then carries an
`EDIFACT_CHARSET` warning naming the segment, so the text is kept and the analyst still sees why.
UNOA/UNOB repertoire limits (upper case only, few punctuation marks) are not enforced: real partners
ignore them, and the bytes are still unambiguous ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_C1 = re.compile("[\x80-\x9f]")


@dataclass(frozen=True, slots=True)
class Charset:
    syntax_id: str
    codec: str  # Python codec name
    label: str  # how an analyst names it
    single_byte: bool
    known: bool = True

    def decode(self, data: bytes) -> str | None:
        """Whole-chunk decoding on the fast path; None when some bytes don't fit (use `decode_piece`)."""
        if data.isascii():
            return data.decode("ascii")
        try:
            text = data.decode(self.codec)
        except UnicodeDecodeError:
            return None
        if self.single_byte and _C1.search(text):
            return None
        return text

    def decode_piece(self, data: bytes) -> tuple[str, str | None]:
        """One segment's text, and a note in plain words when the bytes don't fit the declared set."""
        if data.isascii():
            return data.decode("ascii"), None
        declared: str | None
        try:
            declared = data.decode(self.codec)
        except UnicodeDecodeError:
            declared = None
        if declared is not None and not (self.single_byte and _C1.search(declared)):
            return declared, None
        try:
            return data.decode("utf-8"), f"holds bytes that are not {self.label}; they were read as UTF-8"
        except UnicodeDecodeError:
            pass
        if declared is not None:
            return declared, f"holds control characters outside {self.label}; they were kept as sent"
        return data.decode("latin-1"), f"holds bytes that are not {self.label}; they were read as ISO 8859-1"

    def encode(self, text: str) -> bytes:
        try:
            return text.encode(self.codec)
        except UnicodeEncodeError as error:
            bad = text[error.start : error.end]
            raise ValueError(
                f"{bad!r} cannot be written in {self.label} ({self.syntax_id}); choose UNOW or UNOY (UTF-8)"
            ) from None


_TABLE: dict[str, tuple[str, str, bool]] = {
    "UNOA": ("ascii", "ASCII (UNOA)", True),
    "UNOB": ("ascii", "ASCII (UNOB)", True),
    "UNOC": ("iso8859-1", "ISO 8859-1 (UNOC)", True),
    "UNOD": ("iso8859-2", "ISO 8859-2 (UNOD)", True),
    "UNOE": ("iso8859-5", "ISO 8859-5 (UNOE)", True),
    "UNOF": ("iso8859-7", "ISO 8859-7 (UNOF)", True),
    "UNOG": ("iso8859-3", "ISO 8859-3 (UNOG)", True),
    "UNOH": ("iso8859-4", "ISO 8859-4 (UNOH)", True),
    "UNOI": ("iso8859-6", "ISO 8859-6 (UNOI)", True),
    "UNOJ": ("iso8859-8", "ISO 8859-8 (UNOJ)", True),
    "UNOK": ("iso8859-9", "ISO 8859-9 (UNOK)", True),
    "UNOW": ("utf-8", "UTF-8 (UNOW)", False),
    "UNOY": ("utf-8", "UTF-8 (UNOY)", False),
    "IATA": ("ascii", "ASCII (IATA)", True),
    "IATB": ("ascii", "ASCII (IATB)", True),
}


def for_syntax(syntax_id: str) -> Charset:
    """The character set of a syntax identifier; unknown identifiers are read as UTF-8 (`known=False`)."""
    entry = _TABLE.get(syntax_id.upper())
    if entry is None:
        return Charset(
            syntax_id, "utf-8", f"UTF-8 (assumed for {syntax_id or 'no syntax identifier'})", False, False
        )
    codec, label, single_byte = entry
    return Charset(syntax_id.upper(), codec, label, single_byte)
