"""Scenario 2: the RabbitMQ application is stopped for a few seconds mid-stream, then started again.

Two workers (every stage each) and the API's outbox relay lose their connections. The 3PL answers 503
from shortly before the outage until the broker is back, so dispatch messages are waiting in the retry
tiers (TTL queues that dead-letter back to the work exchange) when the broker stops: they must come
back too. The robust connection should reconnect and restore the consumers; if it cannot, the bus
watchdog makes a worker exit with code 75 and the rig, acting as supervisor, restarts it. The test
records which of the two happened (in the timeline, printed by the fixture) and accepts only those two
outcomes; then every invariant must hold.

Bound: the outage lasts OUTAGE seconds; the whole test BUDGET (about 30 s when the consumers recover,
plus up to the watchdog's 60 s if they do not).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import MakeRig
from tests.faults.harness import TEMPLATE_SENDER, dispatched_at_least
from tests.faults.services import need_control, rabbitmq_stopped

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

DOCUMENTS = 500
OUTAGE = 5.0
BUDGET = 180.0
WATCHDOG_EXIT = 75


async def test_a_broker_outage_mid_stream_loses_and_duplicates_nothing(make_rig: MakeRig) -> None:
    need_control("rabbitmqctl")
    async with asyncio.timeout(BUDGET):
        rig = await make_rig(max_attempts=200)
        await rig.add_partner("hexa", TEMPLATE_SENDER, "wh", rig.receiver.url)
        workers = [rig.add_worker("a"), rig.add_worker("b")]
        rig.supervise()
        await rig.submit(range(DOCUMENTS))  # a backlog first, so that the outage hits mid-stream
        await rig.start_workers()
        before = await rig.wait_for("a tenth dispatched", dispatched_at_least(DOCUMENTS // 10), 60)
        rig.receiver.mode = "fail"
        rig.note("3PL answers 503")
        await asyncio.sleep(1.0)  # dispatches fail in place, then wait in the retry tiers
        depths = await rig.queue_depths()
        rig.note(f"queues just before the outage: { {q: n for q, n in depths.items() if n} }")
        async with rabbitmq_stopped(rig):
            await asyncio.sleep(OUTAGE)
        rig.receiver.mode = "ok"
        rig.note("3PL answers 200 again")
        await rig.wait_for("every order dispatched", dispatched_at_least(DOCUMENTS), BUDGET - 40)
        await rig.stop_workers()
        summary = await rig.verify()

    assert before["orders"].get("dispatched", 0) < DOCUMENTS, "the outage did not happen mid-stream"
    assert summary["3pl_statuses"].get(503, 0) > 0 and summary["dispatch_rows_with_bus_retries"] > 0
    restarts = summary["supervisor_restarts"]
    assert {code for _, code in restarts} <= {WATCHDOG_EXIT}, f"workers died otherwise: {restarts}"
    logs = "".join(w.log(run) for w in workers for run in range(1, w.runs + 1))
    outcome = (
        f"{len(restarts)} worker(s) exited {WATCHDOG_EXIT} (watchdog) and were restarted"
        if restarts
        else "every worker's robust connection restored its consumers"
    )
    rig.note(
        f"outcome: {outcome}; 'connection and consumers restored' logged {logs.count('consumers restored')}x"
    )
