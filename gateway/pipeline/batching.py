"""Group commit: the messages a consumer has in hand at the same moment share one transaction.

A stage consumer holds up to `prefetch` messages at once. Handling each in its own transaction costs a
commit and a statement per row for every message; handling together the ones that are waiting costs one
commit and a few set-based statements per batch. Batches form by themselves: a batch is taken the moment
the previous one is done, with whatever has arrived meanwhile (up to `max_size`), so under light load a
batch is one message and nothing waits for a timer, and under load batches grow. Each caller still
awaits its own item's result, so the bus acknowledges, retries or parks each message on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

RunBatch = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]
"""Handle a batch; one result per item, in order: a value, or the exception that item's caller gets."""


class Batcher(Generic[T, R]):
    def __init__(self, run: RunBatch[T, R], *, max_size: int = 100, parallel: int = 1) -> None:
        if max_size < 1 or parallel < 1:
            raise ValueError("max_size and parallel must be at least 1")
        self._run = run
        self.max_size = max_size
        self.parallel = parallel
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runners: set[asyncio.Task[None]] = set()
        self._active = 0  # runners that may still take items

    async def submit(self, item: T) -> R:
        """The item's result once its batch is done; raises the item's exception."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._active < self.parallel:
            # Counted here and uncounted by the runner itself in the same step as its last look at
            # `_waiting`: a task's done-callback comes later, and an item submitted in between would
            # wait for a runner that has already left.
            self._active += 1
            runner = asyncio.create_task(self._drain(), name="batcher")
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return await future

    async def _drain(self) -> None:
        try:
            await self._take_batches()
        finally:
            self._active -= 1
            if self._active == 0 and self._waiting:  # this runner was cancelled (shutdown): no one
                for _, future in self._waiting:  # is left to take these, so their callers learn it
                    future.cancel()
                self._waiting = []

    async def _take_batches(self) -> None:
        # Yield once so that callers submitting in the same loop iteration join the first batch.
        await asyncio.sleep(0)
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_size], self._waiting[self.max_size :]
            try:
                results = await self._run([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"batch of {len(batch)} gave {len(results)} results")
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as error:  # every caller of the batch learns what happened to it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its caller was cancelled (forced shutdown): the bus redelivers it
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for batches in progress (callers normally await their items first)."""
        for runner in list(self._runners):
            with contextlib.suppress(Exception):
                await runner
