"""Failpoints (crash tests, RELIABILITY rule 8): `ORDERGATE_FAILPOINT=NAME[:STAGE][@N]` makes the process
`os._exit(137)` — no cleanup, no ack, like `kill -9` — the N-th time (default the first) it reaches point
NAME in stage STAGE (default any). Points:

- `after_commit_before_publish`: a stage's transaction (effect, processed-message rows, outbox rows)
  has committed and the messages it caused are not published yet (`outbox.Publisher`, every stage);
- `after_commit_before_ack`: the caused messages are published and the handler has not returned, so
  the bus has not acknowledged the message (in `consumer.py` for intake, translate, review and route;
  in `dispatch.py` for dispatch);
- `after_post_before_commit` (dispatch only): the destination answered 2xx and the dispatch is not yet
  recorded as SENT.

Read once at import; unset, a failpoint costs one comparison with None.
"""

from __future__ import annotations

import os
import sys

FAILPOINT_ENV = "ORDERGATE_FAILPOINT"
FAILPOINT_EXIT_CODE = 137


def _parse_failpoint(value: str | None) -> tuple[str, str | None, int] | None:
    """`NAME[:STAGE][@N]` → (name, stage or None for any, n)."""
    if not value or not value.strip():
        return None
    spec, _, count = value.strip().partition("@")
    name, _, stage = spec.partition(":")
    if not name or (count and not count.isdigit()):
        raise ValueError(f"{FAILPOINT_ENV}={value!r}: expected NAME[:STAGE][@N]")
    return name, stage or None, int(count) if count else 1


_FAILPOINT = _parse_failpoint(os.environ.get(FAILPOINT_ENV))
FAILPOINT_ARMED = _FAILPOINT is not None
_failpoint_hits = 0


def failpoint(name: str, stage: str) -> None:
    """Crash here if ORDERGATE_FAILPOINT says so (see the module docstring). Call it as
    `if FAILPOINT_ARMED: failpoint(...)` where it must cost nothing."""
    global _failpoint_hits
    if _FAILPOINT is None:
        return
    wanted, wanted_stage, nth = _FAILPOINT
    if wanted != name or (wanted_stage is not None and wanted_stage != stage):
        return
    _failpoint_hits += 1
    if _failpoint_hits < nth:
        return
    sys.stderr.write(f"ordergate: failpoint {name}:{stage}@{_failpoint_hits} hit: exiting with 137\n")
    sys.stderr.flush()
    os._exit(FAILPOINT_EXIT_CODE)
