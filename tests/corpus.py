"""Access to the shared sample corpus (`ORDERGATE_CORPUS`, default `../shared/corpus` beside the project).

Outside CI a missing corpus skips the tests that need it; under CI (`CI=true`) or
`ORDERGATE_REQUIRE_SERVICES=1` it fails them, so a misplaced corpus can never pass silently.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    return Path(os.environ.get("ORDERGATE_CORPUS", PROJECT_ROOT.parent / "shared" / "corpus"))


def strict() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("ORDERGATE_REQUIRE_SERVICES") == "1"


@dataclass(frozen=True)
class CorpusEntry:
    file: str
    family: str
    message_type: str
    version: str
    messages: str
    expected: str
    notes: str

    @property
    def path(self) -> Path:
        return corpus_dir() / self.file

    def fact(self, key: str) -> str | None:
        """A `key=value` fact from the `expected` column (first occurrence), value as written."""
        for part in self.expected.replace(" | ", "; ").split("; "):
            name, sep, value = part.partition("=")
            if sep and name.strip() == key:
                return value.strip()
        return None


@cache
def _load_manifest(path: Path) -> tuple[CorpusEntry, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return tuple(
            CorpusEntry(
                file=row["file"],
                family=row["family"],
                message_type=row["message_type"],
                version=row["version"],
                messages=row["messages"],
                expected=row["expected"],
                notes=row["notes"],
            )
            for row in reader
        )


def manifest() -> tuple[CorpusEntry, ...]:
    """Every corpus entry; empty when the corpus is absent (tests then skip or fail, see `require_corpus`)."""
    path = corpus_dir() / "MANIFEST.tsv"
    return _load_manifest(path) if path.is_file() else ()


def require_corpus() -> None:
    if (corpus_dir() / "MANIFEST.tsv").is_file():
        return
    message = f"sample corpus not found at {corpus_dir()} (set ORDERGATE_CORPUS)"
    if strict():
        pytest.fail(message)
    pytest.skip(message)


def entries(predicate=lambda entry: True) -> list[CorpusEntry]:  # type: ignore[no-untyped-def]
    return [entry for entry in manifest() if predicate(entry)]
