"""Identifiers that sort by creation time, so listings and archives read in arrival order."""

from __future__ import annotations

import secrets
import time


def new_id() -> str:
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
