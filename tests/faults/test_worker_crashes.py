"""Scenario 1: workers die without warning, and nothing is lost or done twice.

- A failpoint (`ORDERGATE_FAILPOINT`, see `gateway/pipeline/failpoints.py`) kills a worker with
  `os._exit(137)` exactly between a stage's database commit and its ack, once in each stage in turn;
  between a commit and the publish of the messages it caused (translate, route, dispatch); and once in
  dispatch between the 3PL's 200 and the SENT commit. The worker is restarted without the failpoint
  after each crash. The broker redelivers the committed, unacknowledged message; the idempotent
  consumer absorbs it and publishes again what its batch caused (else the order would stop there).
- Plain SIGKILLs at random moments of a stream, the workers restarted by the rig acting as supervisor.

Each test bounds itself (`BUDGET`) and checks every invariant of `Rig.verify` afterwards.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from typing import Any

import pytest

from tests.faults.conftest import MakeRig
from tests.faults.harness import TEMPLATE_SENDER, dispatched_at_least

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

DOCUMENTS = 200
RANDOM_KILL_DOCUMENTS = 600
BUDGET = 120.0  # seconds per test; a run takes about 25 to 35 s

# (failpoint, consumer) in pipeline order, so each stage still has work when its turn comes.
CRASH_POINTS = [
    ("after_commit_before_ack", "intake"),
    ("after_commit_before_publish", "translate"),
    ("after_commit_before_ack", "translate"),
    ("after_commit_before_ack", "review"),
    ("after_commit_before_publish", "route"),
    ("after_commit_before_ack", "route"),
    ("after_post_before_commit", "dispatch"),
    ("after_commit_before_publish", "dispatch"),
    ("after_commit_before_ack", "dispatch"),
]


async def test_a_worker_killed_between_commit_and_ack_in_every_stage(make_rig: MakeRig) -> None:
    async with asyncio.timeout(BUDGET):
        rig = await make_rig()
        await rig.add_partner("hexa", TEMPLATE_SENDER, "wh", rig.receiver.url)
        steady = rig.add_worker("steady")
        crashy = rig.add_worker("crashy", supervised=False)
        rig.supervise()
        await rig.start_workers(steady)
        # A stream that outlasts the crash sequence (about 3 s per crash), so every stage has work when its
        # turn comes: a document every 0.1 s until the sequence is over, and at least DOCUMENTS.
        sequence_over = asyncio.Event()

        async def feed() -> None:
            index = 0
            while index < DOCUMENTS or not sequence_over.is_set():
                await rig.submit([index])
                index += 1
                await asyncio.sleep(0.1)
            rig.note(f"submitted {index} documents")

        feeding = asyncio.create_task(feed())
        for point, stage in CRASH_POINTS:
            crashy.start(ORDERGATE_FAILPOINT=f"{point}:{stage}@3")
            code = await crashy.wait(timeout=30.0)
            log = crashy.log()
            assert code == 137, f"{point}:{stage}: exit {code}\n{log[-2000:]}"
            assert f"failpoint {point}:{stage}@3 hit" in log, log[-2000:]
            rig.note(f"crashy hit {point}:{stage}, exit {code}")
        sequence_over.set()
        crashy.start()  # back without a failpoint, to finish the work with the steady one
        await crashy.ready()
        await feeding
        await rig.wait_for("every order dispatched", dispatched_at_least(len(rig.documents)), 60)
        await rig.stop_workers()
        summary = await rig.verify()
    assert summary["supervisor_restarts"] == []


async def test_workers_killed_at_random_mid_stream(make_rig: MakeRig) -> None:
    seed = int(time.time())
    chooser = random.Random(seed)
    async with asyncio.timeout(BUDGET):
        rig = await make_rig()
        rig.note(f"random seed {seed}")
        await rig.add_partner("hexa", TEMPLATE_SENDER, "wh", rig.receiver.url)
        workers = [rig.add_worker("a"), rig.add_worker("b")]
        rig.supervise()
        # A backlog first, large enough that both kills land mid-stream however fast the pipeline is.
        await rig.submit(range(RANDOM_KILL_DOCUMENTS))
        await rig.start_workers()

        # Kill one worker at random when a tenth is dispatched, then both at once at three fifths, each
        # after a random extra pause so the kill lands anywhere in a handler.
        for threshold, victims in (
            (RANDOM_KILL_DOCUMENTS // 10, [chooser.choice(workers)]),
            (RANDOM_KILL_DOCUMENTS * 3 // 5, workers),
        ):
            await rig.wait_for(f"{threshold} dispatched", dispatched_at_least(threshold), 60)
            await asyncio.sleep(chooser.uniform(0.0, 0.3))
            runs_before = {victim.name: victim.runs for victim in victims}
            for victim in victims:
                victim.kill(signal.SIGKILL)
            rig.note(f"killed {[v.name for v in victims]} at {await rig.dispatched()} dispatched")
            if threshold < RANDOM_KILL_DOCUMENTS * 3 // 5:
                # The next kill must land on a restarted worker, not on the one already dead (the
                # pipeline can now reach the next threshold within the supervisor's restart delay).
                for victim in victims:
                    await _restarted(victim, runs_before[victim.name])
        await rig.wait_for("every order dispatched", dispatched_at_least(RANDOM_KILL_DOCUMENTS), 60)
        await rig.stop_workers()
        summary = await rig.verify()
    restarts = summary["supervisor_restarts"]
    assert len(restarts) == 3 and {code for _, code in restarts} == {-signal.SIGKILL}, restarts


async def _restarted(worker: Any, runs_before: int, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while worker.runs <= runs_before:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{worker.name} was not restarted within {timeout:g} s")
        await asyncio.sleep(0.05)
    await worker.ready()
