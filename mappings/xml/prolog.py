"""What comes before the root element: XML declaration, comments, processing instructions, DOCTYPE.

Read with a few regular expressions over bytes, before any XML parser sees the document, for two
reasons: a DTD internal subset (where entities are declared) is refused before libxml2 reads a single
declaration, and sniffing can find the root element of a document whose first 4 KiB end mid-way.
UTF-16/32 documents are decoded first; every other encoding XML allows keeps ASCII as ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)

_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_QUOTED = rb"(?:\"[^\"]*\"|'[^']*')"
_DOCTYPE = re.compile(
    rb"\s*<!DOCTYPE\s+(?P<name>[^\s\[>]+)"
    rb"(?:\s+(?:SYSTEM\s+%(q)s|PUBLIC\s+%(q)s\s+%(q)s))?"
    rb"\s*(?P<subset>\[)?" % {b"q": _QUOTED}
)
_SUBSET_END = re.compile(rb"(?:[^\]\"']|" + _QUOTED + rb")*\]\s*>", re.DOTALL)
_DOCTYPE_END = re.compile(rb"\s*>")
_ROOT_START = re.compile(rb"\s*<[^!?]")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\b")


@dataclass(frozen=True, slots=True)
class Prolog:
    doctype: str | None = None
    internal_subset: bool = False
    declares_entities: bool = False
    doctype_line: int | None = None
    root_offset: int | None = None  # where the root start tag begins in `ascii_view(data)`
    root_line: int | None = None


def ascii_view(data: bytes) -> bytes:
    """The document with ASCII characters as single bytes: UTF-16/32 decoded (to UTF-8), a BOM dropped.

    Undecodable bytes (a head cut mid-character) are dropped: the view is for finding markup, not text."""
    for mark, codec in _WIDE:
        if data.startswith(mark):
            text = data.decode(codec, errors="ignore").removeprefix("\ufeff")
            return text.encode("utf-8")
    return data.removeprefix(_UTF8_BOM)


def scan(view: bytes) -> Prolog:
    """Read the prolog of `ascii_view(data)`; fields stay None where the bytes end before them."""
    position = _skip(view, 0)
    doctype = _DOCTYPE.match(view, position)
    if doctype is None:
        return _with_root(Prolog(), view, position)
    prolog = Prolog(
        doctype=doctype.group("name").decode("ascii", errors="replace"),
        internal_subset=doctype.group("subset") is not None,
        doctype_line=view.count(b"\n", 0, doctype.start("name")) + 1,
    )
    if prolog.internal_subset:
        end = _SUBSET_END.match(view, doctype.end())
        subset = view[doctype.end() : end.end() if end else len(view)]
        prolog = replace(prolog, declares_entities=_ENTITY_DECLARATION.search(subset) is not None)
        if end is None:
            return prolog
        position = end.end()
    else:
        end = _DOCTYPE_END.match(view, doctype.end())
        if end is None:
            return prolog
        position = end.end()
    return _with_root(prolog, view, _skip(view, position))


def _skip(view: bytes, position: int) -> int:
    while (found := _SKIP.match(view, position)) is not None:
        position = found.end()
    return position


def _with_root(prolog: Prolog, view: bytes, position: int) -> Prolog:
    found = _ROOT_START.match(view, position)
    if found is None:
        return prolog
    offset = found.end() - 2
    return replace(prolog, root_offset=offset, root_line=view.count(b"\n", 0, offset) + 1)
