"""Streaming EDIFACT tokenizer: bytes in chunks → one segment at a time, in bounded memory.

Why not pydifact's tokenizer: it reads one character at a time (1.4 MB/s here). This one splits whole
chunks with `str.split`, which runs in C, and only walks character by character through the rare
segments that contain a release character or a repetition separator.

How a chunk is cut: everything up to the last segment terminator byte of the buffer is complete and is
decoded at once (separators are ASCII, and every supported character set is ASCII-compatible, so that
byte can never be inside a multi-byte character); the rest waits for the next chunk. A piece whose
terminator turns out to be released (`?'`, odd count of release characters before it) is glued to the
next piece, even across chunks. CR and LF are dropped everywhere before splitting (unless one of them is
the segment terminator), because partners wrap lines at fixed widths, even inside tags or between a
release character and the character it releases.

A segment is a plain tuple `(tag, elements, position)`, not an object: creating ~740,000 objects for a
16 MB interchange costs more than the split itself. Every element is a list of its components, a simple
element a list of one: readers then index `elements[i][j]` without asking which shape they hold. A
repeated element (syntax 4) is a `Repeated` list: its own items are the first repetition's components,
`.more` holds the others, so a reader that ignores repetition still reads the first one correctly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain

from gateway.core.errors import Issue, ParseError
from mappings.base import Source, iter_chunks
from mappings.edifact import codes
from mappings.edifact.charsets import Charset, for_syntax
from mappings.edifact.separators import DEFAULT, Separators, from_una


class Repeated(list[str]):
    """A repeated data element: the components of its first repetition, and `more` repetitions."""

    __slots__ = ("more",)

    def __init__(self, first: list[str], more: list[list[str]]) -> None:
        super().__init__(first)
        self.more = more

    def repetitions(self) -> list[list[str]]:
        return [list(self), *self.more]


Element = list[str]
Segment = tuple[str, list[Element], int]
"""(tag, elements without the tag, 1-based position in the interchange: UNB is 1, UNA is not counted)."""

WINDOW = 16 << 10  # bytes split at a time: memory stays flat whatever chunk size the caller reads with
MAX_SEGMENT_BYTES = 1 << 20  # a "segment" longer than this means a wrong or missing terminator
HEAD_LIMIT = 64 << 10
_BOM = b"\xef\xbb\xbf"
_WHITE = b" \t\r\n"
_TRAILER_PADDING = b" \t\r\n\x00\x1a"  # blanks, NUL padding and a DOS end-of-file mark after the last segment


class Tokenizer:
    """Iterate over the segments of one interchange.

    The attributes (`separators`, `syntax_id`, `syntax_version`, `charset`, `una`) are set before the
    first segment is yielded. `notes` collects `EDIFACT_CHARSET` warnings as the segments they concern are
    yielded; the reader drains it.
    """

    def __init__(self, source: Source, *, chunk_size: int = WINDOW) -> None:
        self._chunks = _windows(iter_chunks(source, chunk_size))
        self.separators: Separators = DEFAULT
        self.una = False
        self.syntax_id = ""
        self.syntax_version = 0
        self.repetition: str | None = None
        self.charset: Charset = for_syntax("UNOA")
        self.notes: list[Issue] = []
        self.position = 0

    def __iter__(self) -> Iterator[Segment]:
        return self._segments()

    # -- head: BOM, UNA, and the UNB syntax identifier, which decides the character set -----------------

    def _read_head(self) -> bytes:
        """Consume the UNA if any, set separators and character set; return the bytes from UNB on."""
        buf = bytearray()
        chunks = self._chunks

        def more() -> bool:
            chunk = next(chunks, None)
            if chunk is None:
                return False
            buf.extend(chunk)
            return True

        eof = False
        start = 0  # first significant byte: after a UTF-8 BOM and blanks
        bom_checked = False
        while True:
            if not bom_checked and (len(buf) >= 3 or eof):
                start = 3 if buf.startswith(_BOM) else 0
                bom_checked = True
            if bom_checked:
                while start < len(buf) and buf[start] in _WHITE:
                    start += 1
                if len(buf) - start >= 9:
                    break
            if eof or len(buf) > HEAD_LIMIT:
                break
            eof = not more()
        if len(buf) <= start:
            raise ParseError("the document is empty", code=codes.EMPTY, position=1)
        if buf[start : start + 3] == b"UNA":
            if len(buf) - start < 9:
                raise ParseError(
                    "the document ends inside the service string advice UNA",
                    code=codes.UNA_INVALID,
                    segment="UNA",
                )
            self.separators = from_una(bytes(buf[start + 3 : start + 9]))
            self.una = True
            start += 9

        term = self.separators.terminator.encode("ascii")
        drop = b"\r\n".replace(term, b"")
        scan = start
        while True:  # read on to the end of UNB: its syntax identifier decides how to decode everything
            head = bytes(buf[start : start + 4096]).translate(None, drop).lstrip(_WHITE)
            if len(head) >= 3 and not head.startswith(b"UNB"):
                raise _not_interchange(head)
            end = buf.find(term, scan)
            if end >= 0 or eof or len(buf) - start > HEAD_LIMIT:
                break
            scan = len(buf)
            eof = not more()
        if not head.startswith(b"UNB"):
            raise _not_interchange(head)
        unb = bytes(buf[start : end if end >= 0 else len(buf)]).translate(None, drop).lstrip(_WHITE)
        self._read_syntax_identifier(unb)
        return bytes(buf[start:]).lstrip(_WHITE)

    def _read_syntax_identifier(self, clean: bytes) -> None:
        element = self.separators.element.encode("ascii")
        component = self.separators.component.encode("ascii")
        head = clean.split(self.separators.terminator.encode("ascii"), 1)[0]
        parts = head.split(element)
        s001 = parts[1].split(component) if len(parts) > 1 else [b""]
        self.syntax_id = s001[0].decode("latin-1")
        version = s001[1].decode("latin-1") if len(s001) > 1 else ""
        self.syntax_version = int(version) if version.isdigit() and len(version) == 1 else 0
        self.charset = for_syntax(self.syntax_id)
        self.repetition = self.separators.effective_repetition(self.syntax_version, self.una)

    # -- body ----------------------------------------------------------------------------------------------

    def _segments(self) -> Iterator[Segment]:
        first = self._read_head()
        seps = self.separators
        esep, csep, term = seps.element, seps.component, seps.terminator
        rel = seps.release_char
        rep = self.repetition
        term_b = term.encode("ascii")
        rel_b = rel.encode("ascii") if rel else b""
        drop = b"\r\n".replace(term_b, b"")
        charset = self.charset
        specials = "".join(c for c in (rel, rep) if c)
        # the (at most two) characters that send a segment to the slow splitter
        special_1, special_2 = (specials[0], specials[-1]) if specials else ("\x00", "\x00")
        split_special = _special_splitter(esep, csep, rel, rep)
        notes = self.notes
        pos = 0
        pending: list[bytes] = []  # bytes after the last terminator byte, not yet split
        pending_size = 0
        carry = ""  # a decoded piece whose terminator was released: the segment goes on
        carry_note: str | None = None

        for chunk in chain((first,), self._chunks):
            cut = chunk.rfind(term_b)
            if cut < 0:  # kept as a list: joining on every window would be quadratic for long segments
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size + len(carry) > MAX_SEGMENT_BYTES:
                    raise _too_long(pos + 1)
                continue
            complete = b"".join((*pending, chunk[:cut])) if pending else chunk[:cut]
            rest = chunk[cut + 1 :]
            pending = [rest] if rest else []
            pending_size = len(rest)
            if drop and (b"\n" in complete or b"\r" in complete):
                complete = complete.translate(None, drop)

            text = charset.decode(complete)
            bad: dict[int, str] | None = None
            if text is not None:
                if carry:
                    text = carry + term + text
                    carry = ""
                pieces = text.split(term)
                if rel and rel + term in text:  # some terminator may be released
                    pieces = _glue_released(pieces, rel, term)
            else:  # some bytes don't fit the declared set: decode segment by segment to say which
                raw = complete.split(term_b)
                if rel_b and rel_b + term_b in complete:
                    raw = _glue_released(raw, rel_b, term_b)
                pieces = []
                bad = {}
                for index, piece_bytes in enumerate(raw):
                    piece, note = charset.decode_piece(piece_bytes)
                    pieces.append(piece)
                    if note:
                        bad[index] = note
                if carry:
                    pieces[0] = carry + term + pieces[0]
                    carry = ""
            if carry_note:
                bad = bad or {}
                bad.setdefault(0, carry_note)
                carry_note = None
            if rel and _released_at_end(pieces[-1], rel):
                carry = pieces.pop()
                if bad and len(pieces) in bad:
                    carry_note = bad.pop(len(pieces))
                if len(carry) > MAX_SEGMENT_BYTES:
                    raise _too_long(pos + 1)
            special = any(c in text for c in specials) if text is not None else bool(specials)

            if bad is None:
                if not special:  # the fast path: no release, no repetition, clean bytes
                    for piece in pieces:
                        if piece:
                            pos += 1
                            parts = piece.split(esep)
                            yield parts[0], [p.split(csep) for p in parts[1:]], pos
                else:
                    for piece in pieces:
                        if piece:
                            pos += 1
                            if special_1 in piece or special_2 in piece:
                                tag, elements = split_special(piece)
                                yield tag, elements, pos
                            else:
                                parts = piece.split(esep)
                                yield parts[0], [p.split(csep) for p in parts[1:]], pos
                self.position = pos
                continue

            for index, piece in enumerate(pieces):  # some segments hold bytes foreign to the character set
                if not piece:
                    continue
                pos += 1
                self.position = pos
                if special_1 in piece or special_2 in piece:
                    tag, elements = split_special(piece)
                else:
                    parts = piece.split(esep)
                    tag = parts[0]
                    elements = [p.split(csep) for p in parts[1:]]
                if index in bad:
                    notes.append(
                        Issue(
                            code=codes.CHARSET,
                            message=f"segment {tag[:3]} at position {pos} {bad[index]}",
                            segment=tag[:3],
                            position=pos,
                            severity="warning",
                        )
                    )
                yield tag, elements, pos

        self.position = pos
        tail = b"".join(pending).translate(None, drop).strip(_TRAILER_PADDING)
        if carry or tail:
            text = carry or tail.decode("latin-1")
            raise ParseError(
                f"the interchange ends inside a segment ({_preview(text)!r} has no segment terminator "
                f"{term!r}): it is probably truncated",
                code=codes.SEGMENT_UNTERMINATED,
                segment=_preview(text)[:3],
                position=pos + 1,
            )


def _windows(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Cut large chunks into windows, so a 1 MiB read never becomes a 1 MiB list of segment strings."""
    for chunk in chunks:
        if len(chunk) <= WINDOW:
            yield chunk
        else:
            for start in range(0, len(chunk), WINDOW):
                yield chunk[start : start + WINDOW]


def _glue_released(pieces: list, rel: str | bytes, term: str | bytes) -> list:  # type: ignore[type-arg]
    """Join pieces whose terminator was released (`?'`): an odd run of release characters before it."""
    out = []
    held = None
    for piece in pieces:
        if held is not None:
            piece = held + term + piece
            held = None
        if piece.endswith(rel) and _released_at_end(piece, rel):
            held = piece
        else:
            out.append(piece)
    if held is not None:
        out.append(held)
    return out


def _released_at_end(piece: str | bytes, rel: str | bytes) -> bool:
    if not piece.endswith(rel):  # type: ignore[arg-type]
        return False
    run = len(piece) - len(piece.rstrip(rel))  # type: ignore[arg-type]
    return run % 2 == 1


def _special_splitter(esep: str, csep: str, rel: str | None, rep: str | None):  # type: ignore[no-untyped-def]
    """Build the slow splitter for segments holding release characters or repetition separators."""
    alternatives = []
    if rel:
        alternatives.append(re.escape(rel) + ".")
    alternatives.append("[" + re.escape(esep + csep + (rep or "")) + "]")
    pattern = re.compile("(" + "|".join(alternatives) + ")", re.DOTALL)

    def split(piece: str) -> tuple[str, list[Element]]:
        elements: list[Element] = []
        repeats: list[list[str]] = []
        components: list[str] = []
        text: list[str] = []
        for index, token in enumerate(pattern.split(piece)):
            if index % 2 == 0:
                text.append(token)
            elif len(token) == 2:  # a released character
                text.append(token[1])
            else:
                components.append("".join(text))
                text = []
                if token == csep:
                    continue
                if token == esep:
                    elements.append(
                        Repeated(repeats[0], [*repeats[1:], components]) if repeats else components
                    )
                    repeats = []
                else:
                    repeats.append(components)
                components = []
        components.append("".join(text))
        elements.append(Repeated(repeats[0], [*repeats[1:], components]) if repeats else components)
        return csep.join(elements[0]), elements[1:]

    return split


def _preview(text: str) -> str:
    return text[:40] + ("…" if len(text) > 40 else "")


def _too_long(position: int) -> ParseError:
    return ParseError(
        f"segment {position} is longer than {MAX_SEGMENT_BYTES >> 20} MiB without a segment terminator: "
        "the separators are wrong or the data is not EDIFACT",
        code=codes.SEGMENT_TOO_LONG,
        position=position,
    )


def _not_interchange(clean: bytes) -> ParseError:
    start = clean[:3].decode("latin-1")
    looks_like_tag = len(start) == 3 and start.isalnum() and start.isupper()
    if looks_like_tag:
        message = (
            f"the document starts with segment {start}, not with UNA or UNB: it is not an interchange "
            "(a message without its envelope?)"
        )
    else:
        message = "the document does not start with UNA or UNB: it is not an EDIFACT interchange"
    return ParseError(
        message, code=codes.NOT_INTERCHANGE, segment=start if looks_like_tag else None, position=1
    )
