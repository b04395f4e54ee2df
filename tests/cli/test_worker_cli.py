"""`ordergate worker` as an operator runs it: a separate process on the embedded default picks up what
`ordergate ingest` left queued, dispatches it, and exits cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway.settings import Settings
from tests.pipeline.fake_3pl import Fake3PL

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.app", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_worker_dispatches_queued_orders_and_stops_on_sigterm(settings: Settings) -> None:
    env = {
        **os.environ,
        "ORDERGATE_HOME": str(settings.home),
        "ORDERGATE_RETRY_DELAYS": "[0.1, 0.2]",
        "WH_SECRET": "k",
    }
    with Fake3PL(secret="k") as fake:
        assert _cli(env, "partners", "add", "hexa", "--edifact", "5412345000013:14").returncode == 0
        assert (
            _cli(env, "destinations", "add", "wh", "--url", fake.url, "--secret-env", "WH_SECRET").returncode
            == 0
        )
        assert _cli(env, "destinations", "route", "hexa", "wh").returncode == 0
        ingested = _cli(env, "ingest", str(FIXTURES / "orders_d96a_basic.edi"), "--json")
        assert ingested.returncode == 0, ingested.stderr
        [order_id] = json.loads(ingested.stdout)["documents"][0]["orders"]

        worker = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.app", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and f"{order_id}:1" not in fake.applied:
                time.sleep(0.1)
            assert f"{order_id}:1" in fake.applied, "the worker did not dispatch the queued order"
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
        output = worker.stdout.read().decode() if worker.stdout else ""
        assert "draining" in output

    shown = json.loads(_cli(env, "orders", "show", order_id, "--json").stdout)
    assert shown["status"] == "dispatched"
    assert [e["status"] for e in shown["events"]] == ["received", "approved", "routed", "dispatched"]
    assert fake.keys_seen()[f"{order_id}:1"] == 1


def test_unknown_stage_is_a_usage_error(settings: Settings) -> None:
    done = _cli({**os.environ, "ORDERGATE_HOME": str(settings.home)}, "worker", "--stage", "nope")
    assert done.returncode == 2
    assert "unknown stage" in done.stderr
