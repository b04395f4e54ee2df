"""Bytes → numbered text lines, streaming, each decoded on its own so a bad byte has an address.

Decoding line by line (the mapping only allows ASCII-compatible encodings, so b"\\n" always ends a
line) turns "undecodable bytes" into "line 12, byte 7: 0xFC is not utf-8" rather than an offset into
a chunk. A line that cannot be decoded is still passed on, with replacement characters and a problem
attached, so the rest of the file is read and every bad line reported.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.core.errors import ParseError
from mappings.base import CHUNK_SIZE, Source, iter_chunks

MAX_LINE_BYTES = 1 << 20
"""A longer line is no flat file (a wrong line separator, or binary data): refuse, memory stays bounded."""

_UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class PhysicalLine:
    number: int  # 1-based, as an editor shows it
    text: str  # decoded, with its line terminator
    problem: str | None = None  # why the bytes could not be decoded as declared


def physical_lines(source: Source, encoding: str, chunk_size: int = CHUNK_SIZE) -> Iterator[PhysicalLine]:
    codec = codecs.lookup(encoding).name
    utf8 = codec == "utf-8" or codec == "utf-8-sig"
    number = 0
    pending = b""
    for chunk in iter_chunks(source, chunk_size):
        data = pending + chunk if pending else chunk
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            number += 1
            yield _decode(data[start : end + 1], number, codec, utf8)
            start = end + 1
        pending = data[start:]
        if len(pending) > MAX_LINE_BYTES:
            raise ParseError(
                f"line {number + 1} is longer than {MAX_LINE_BYTES} bytes: not a flat file with these "
                "line breaks",
                code="TABULAR_LINE_TOO_LONG",
                segment="row",
                position=number + 1,
            )
    if pending:
        yield _decode(pending, number + 1, codec, utf8)


def _decode(raw: bytes, number: int, codec: str, utf8: bool) -> PhysicalLine:
    if number == 1 and raw.startswith(_UTF8_BOM):
        if not utf8:
            return PhysicalLine(
                number,
                raw[3:].decode(codec, errors="replace"),
                f"the file starts with a UTF-8 byte order mark, but the mapping says {codec}",
            )
        raw = raw[3:]
    try:
        return PhysicalLine(number, raw.decode(codec))
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.end]
        shown = " ".join(f"0x{byte:02X}" for byte in bad[:4])
        hint = " (is the file cp1252 or latin-1?)" if utf8 else ""
        return PhysicalLine(
            number,
            raw.decode(codec, errors="replace"),
            f"byte {error.start + 1} ({shown}) cannot be decoded as {codec}{hint}",
        )


__all__ = ["MAX_LINE_BYTES", "PhysicalLine", "physical_lines"]
