"""The failpoint switch itself (`gateway/pipeline/consumer.py`): parsing, and exiting at exactly the
N-th hit of the named point in the named consumer, with code 137 and a line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gateway.pipeline import failpoints
from gateway.pipeline.failpoints import _parse_failpoint

pytestmark = pytest.mark.faults


def test_parsing() -> None:
    assert _parse_failpoint(None) is None
    assert _parse_failpoint("  ") is None
    assert _parse_failpoint("after_commit_before_ack") == ("after_commit_before_ack", None, 1)
    assert _parse_failpoint("after_commit_before_ack:route") == ("after_commit_before_ack", "route", 1)
    assert _parse_failpoint("after_post_before_commit:dispatch@7") == (
        "after_post_before_commit",
        "dispatch",
        7,
    )
    with pytest.raises(ValueError, match="NAME"):
        _parse_failpoint("after_commit_before_ack@x")


def test_unset_in_this_process() -> None:
    assert os.environ.get(failpoints.FAILPOINT_ENV) is None
    assert failpoints.FAILPOINT_ARMED is False


def test_it_exits_at_the_nth_hit_of_its_point_and_stage() -> None:
    script = (
        "from gateway.pipeline.failpoints import failpoint\n"
        "for i in range(1, 6):\n"
        "    failpoint('after_commit_before_ack', 'review')\n"
        "    failpoint('after_commit_before_ack', 'route')\n"
        "    failpoint('after_post_before_commit', 'dispatch')\n"
        "    print('passed', i, flush=True)\n"
    )
    env = {**os.environ, failpoints.FAILPOINT_ENV: "after_commit_before_ack:route@3"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 137
    assert done.stdout.split("\n")[:-1] == ["passed 1", "passed 2"]
    assert "failpoint after_commit_before_ack:route@3 hit" in done.stderr
