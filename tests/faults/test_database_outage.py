"""Scenario 3: PostgreSQL stopped for 20 s mid-stream (fast shutdown: open sessions are cut, commits in
flight fail or land without their answer), then started again.

While it is down every handler fails on its first query and the bus retries the message (delays
0.2/0.5/1 s, max_attempts 200 so nothing parks during a planned outage); the outbox relays (workers
and the API) fail and retry. Workers may survive or exit: the rig, as supervisor, restarts any that
exits (with back-off: a restarted worker cannot migrate while the database is down). Afterwards every
invariant must hold — in particular a commit whose answer was lost must not cause a second effect.

Bound: 20 s outage, BUDGET for the whole test (about 50 s on an idle machine).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import MakeRig
from tests.faults.harness import TEMPLATE_SENDER, dispatched_at_least
from tests.faults.services import need_control, postgres_stopped

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

DOCUMENTS = 500
OUTAGE = 20.0
BUDGET = 180.0


async def test_a_database_outage_mid_stream_loses_and_duplicates_nothing(make_rig: MakeRig) -> None:
    need_control("pg_ctlcluster")
    async with asyncio.timeout(BUDGET):
        rig = await make_rig(max_attempts=200)
        await rig.add_partner("hexa", TEMPLATE_SENDER, "wh", rig.receiver.url)
        rig.add_worker("a")
        rig.add_worker("b")
        rig.supervise()
        await rig.submit(range(DOCUMENTS))  # a backlog first, so that the outage hits mid-stream
        await rig.start_workers()
        before = await rig.wait_for("a tenth dispatched", dispatched_at_least(DOCUMENTS // 10), 60)
        async with postgres_stopped(rig):
            await asyncio.sleep(OUTAGE)
        await rig.wait_for(
            "every order dispatched",
            dispatched_at_least(DOCUMENTS),
            BUDGET - 60,
            tolerate_errors=True,
        )
        await rig.stop_workers()
        summary = await rig.verify()

    assert before["orders"].get("dispatched", 0) < DOCUMENTS, "the outage did not happen mid-stream"
    restarts = summary["supervisor_restarts"]
    rig.note(
        f"outcome: {len(restarts)} worker exit(s) during the outage {restarts}"
        if restarts
        else "outcome: both workers survived the outage"
    )
