"""Reading a mapping file (TOML, or the JSON a partner record stores) into a `TabularMapping`.

Every problem becomes one `MappingFileError` listing each mistake on its own line with its path in
the file (`fields[3].target: unknown target "lines.qty" (did you mean "lines.quantity"?)`), so an
operator fixes them all in one go instead of one per run.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from gateway.core.errors import ConfigError
from mappings.tabular.model import TabularMapping

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
"""tomllib names the place only in its message before Python 3.14."""


class MappingFileError(ConfigError):
    """The mapping file itself is wrong: syntax, an unknown key or target, overlapping positions …"""

    code = "MAPPING_FILE_INVALID"

    def __init__(self, message: str, problems: list[str], *, position: int | None = None) -> None:
        super().__init__(message, position=position)
        self.problems = problems


def load_mapping(source: str | Path | Mapping[str, Any]) -> TabularMapping:
    """A mapping from a file path, TOML or JSON text, or already parsed data.

    A `str` is read as text when it is a JSON object or contains a line break or "=" (every TOML
    mapping has both), else as a path; pass a `Path` to be explicit."""
    if isinstance(source, Mapping):
        return _validate(dict(source))
    if isinstance(source, str) and ("\n" in source or "=" in source or source.lstrip().startswith("{")):
        return _validate(_parse_text(source))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise MappingFileError(f"the mapping file is not UTF-8 ({error.reason})", []) from None
    except OSError as error:
        raise MappingFileError(f"cannot read the mapping file: {error.strerror or error}", []) from None
    return _validate(_parse_text(text, as_json=path.suffix.lower() == ".json"))


def _parse_text(text: str, *, as_json: bool = False) -> dict[str, Any]:
    if as_json or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise MappingFileError(f"not valid JSON: {error}", [], position=error.lineno) from None
        if not isinstance(data, dict):
            raise MappingFileError("a JSON mapping is an object", [])
        return data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        raise MappingFileError(
            f"not valid TOML: {error}", [], position=int(found.group(1)) if found else None
        ) from None


def _validate(data: dict[str, Any]) -> TabularMapping:
    try:
        return TabularMapping.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [line for e in error.errors() for line in _describe(e)]
        listed = "\n".join(f"  - {p}" for p in problems)
        raise MappingFileError(f"the mapping has {len(problems)} problem(s):\n{listed}", problems) from None


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index == 1 and loc[0] in ("layout", "grouping"):
            continue  # the tag pydantic adds for the chosen member of a discriminated union
        else:
            text += f".{part}" if text else part
    return text


def _describe(error: Any) -> list[str]:
    where = _path(tuple(error["loc"]))
    given = error.get("input")
    if (
        len(error["loc"]) == 2
        and error["loc"][0] == "fields"
        and isinstance(given, dict)
        and "target" in given
    ):
        where += f' ("{given["target"]}")'  # a rule over the whole field: name the field by its target
    prefix = f"{where}: " if where else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        return [f"{where}: unknown key (a typo?)"]
    if kind == "missing":
        return [f"{where}: missing"]
    if kind == "union_tag_not_found":
        return [f"{prefix}missing {error['ctx']['discriminator']}"]
    if kind == "union_tag_invalid":
        ctx = error["ctx"]
        return [f"{prefix}{ctx['discriminator']} {ctx['tag']!r} is not one of {ctx['expected_tags']}"]
    message = str(error["msg"]).removeprefix("Value error, ")
    return [prefix + line for line in message.split("\n")]


__all__ = ["MappingFileError", "load_mapping"]
