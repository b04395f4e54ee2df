"""The group-commit batcher: items submitted together share a run, each caller gets its own result or
exception, and no item is ever left waiting for a runner that has gone."""

from __future__ import annotations

import asyncio

import pytest

from gateway.pipeline.batching import Batcher


async def test_items_submitted_together_share_a_run_and_each_gets_its_result() -> None:
    runs: list[list[int]] = []

    async def run(items: list[int]) -> list[int | BaseException]:
        runs.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(run, max_size=4)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(10)))
    assert results == [n * 10 for n in range(10)]
    assert [len(batch) for batch in runs] == [4, 4, 2]


async def test_an_items_exception_reaches_its_caller_only() -> None:
    async def run(items: list[int]) -> list[int | BaseException]:
        return [ValueError(f"bad {n}") if n % 2 else n for n in items]

    batcher: Batcher[int, int] = Batcher(run)
    outcomes = await asyncio.gather(*(batcher.submit(n) for n in range(4)), return_exceptions=True)
    assert outcomes[0] == 0 and outcomes[2] == 2
    assert [str(o) for o in outcomes[1::2]] == ["bad 1", "bad 3"]


async def test_a_failed_run_fails_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def run(items: list[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database gone")
        return list(items)

    batcher: Batcher[int, int] = Batcher(run)
    first = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert [type(o) for o in first] == [RuntimeError, RuntimeError]
    assert await batcher.submit(3) == 3


async def test_a_caller_submitting_again_as_soon_as_its_batch_is_done_is_served() -> None:
    """The runner's last step wakes the batch's callers before its task's done-callback runs; an item
    submitted in that window used to wait for a runner that had already left."""

    async def run(items: list[int]) -> list[int | BaseException]:
        return list(items)

    batcher: Batcher[int, int] = Batcher(run)

    async def twice() -> tuple[int, int]:
        first = await batcher.submit(1)
        second = await batcher.submit(2)  # runs in the window described above
        return first, second

    assert await asyncio.wait_for(twice(), timeout=2.0) == (1, 2)


async def test_items_left_when_the_runner_is_cancelled_are_cancelled_not_left_hanging() -> None:
    started = asyncio.Event()

    async def run(items: list[int]) -> list[int | BaseException]:
        started.set()
        await asyncio.sleep(3600)
        return list(items)

    batcher: Batcher[int, int] = Batcher(run, max_size=1)
    callers = [asyncio.create_task(batcher.submit(n)) for n in range(3)]
    await started.wait()
    for runner in list(batcher._runners):
        runner.cancel()
    done, pending = await asyncio.wait(callers, timeout=2.0)
    assert not pending
    assert all(task.cancelled() for task in done)


def test_sizes_must_be_positive() -> None:
    async def run(items: list[int]) -> list[int | BaseException]:
        return list(items)

    with pytest.raises(ValueError):
        Batcher(run, max_size=0)
