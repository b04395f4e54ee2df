"""Scenario 4: the 3PL misbehaves while orders flow, and a second destination refuses everything.

- The 3PL answers 503 for FAILING seconds, then hangs (answers after 2.5 s, longer than the destination's
  1 s timeout, and *does* apply the order — the dispatcher cannot know) for HANGING seconds, then
  recovers. tenacity retries in place, then the bus retries (`Retry`), a timed-out call is UNKNOWN and
  resent under the same key and body: every order ends dispatched once, and the 3PL applied each key
  once although it saw many keys more than once.
- A second partner's destination answers 422: each of its orders is parked at once, with the reason, its
  dispatch FAILED, and nothing else parked.

Bound: BUDGET for the whole test (about 35 s on an idle machine).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import MakeRig
from tests.faults.harness import TEMPLATE_SENDER, dispatched_at_least
from tests.faults.webhook import WebhookReceiver

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

DOCUMENTS = 500
REFUSED_DOCUMENTS = 20
REFUSING_SENDER = "5400000000017"  # a second partner's UNB sender (GLN, qualifier 14)
FAILING = 4.0
HANGING = 4.0
BUDGET = 150.0


async def test_a_failing_then_hanging_3pl_and_a_refusing_one(make_rig: MakeRig) -> None:
    async with asyncio.timeout(BUDGET):
        rig = await make_rig(max_attempts=50)
        refusing = WebhookReceiver(secret="unused")
        refusing.mode = "reject"
        with refusing:
            await rig.add_partner("hexa", TEMPLATE_SENDER, "wh", rig.receiver.url, timeout=1.0)
            await rig.add_partner("nordx", REFUSING_SENDER, "wh-refusing", refusing.url, timeout=1.0)
            rig.add_worker("a")
            rig.add_worker("b")
            rig.supervise()
            # A backlog first, so that the faults hit mid-stream however fast the pipeline is.
            await rig.submit(range(DOCUMENTS))
            await rig.submit(
                range(DOCUMENTS, DOCUMENTS + REFUSED_DOCUMENTS), partner="nordx", sender=REFUSING_SENDER
            )
            await rig.start_workers()

            before = await rig.wait_for("some dispatched", dispatched_at_least(DOCUMENTS // 25), 60)
            rig.receiver.mode = "fail"
            rig.note(f"3PL answers {rig.receiver.fail_status}")
            await asyncio.sleep(FAILING)
            rig.receiver.mode = "hang"
            rig.note(f"3PL hangs {rig.receiver.hang_seconds:g} s per call (timeout 1 s)")
            await asyncio.sleep(HANGING)
            rig.receiver.mode = "ok"
            during = await rig.counts()
            rig.note(f"3PL recovered; {during}")

            await rig.wait_for(
                "every order dispatched or parked",
                lambda c: c["orders"].get("dispatched", 0) == DOCUMENTS and c["parked"] == REFUSED_DOCUMENTS,
                BUDGET - 50,
            )
            await rig.stop_workers()
            summary = await rig.verify(parked_partners={"nordx"}, parked_reason="refused order")

        assert before["orders"].get("dispatched", 0) < DOCUMENTS // 2, "the faults came too late"
        assert during["orders"].get("dispatched", 0) < DOCUMENTS, "the faults did not hold anything up"
        # The faults were really exercised: 503s, calls that timed out, resends, retries through the bus.
        statuses = summary["3pl_statuses"]
        assert statuses.get(503, 0) > 0
        assert any(s.mode == "hang" for s in rig.receiver.seen), "no call hit the hanging 3PL"
        assert summary["3pl_keys_seen_more_than_once"] > 0
        assert summary["dispatch_rows_with_bus_retries"] > 0
        # The refusing destination saw each of its keys exactly once (a 4xx is never retried) and
        # applied nothing; every parked row says why.
        assert refusing.applied == {}
        assert sorted(refusing.keys_seen().values()) == [1] * REFUSED_DOCUMENTS
        async with rig.database.session() as session:
            from sqlalchemy import select

            from gateway.storage.models import ParkedMessage

            reasons = (await session.scalars(select(ParkedMessage.reason))).all()
        assert all("refused order" in r and "HTTP 422" in r for r in reasons), reasons[:3]
