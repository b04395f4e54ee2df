"""Running the pipeline: which handler consumes which queue, the outbox relay, the parking recorder.

`ordergate worker --stage …` runs some stages (RabbitMQ, scaled out); `ordergate serve` without a broker
runs all of them in-process on the embedded bus. Stopping drains: subscriptions stop taking messages,
in-flight handlers finish and are settled, then the relay stops.

Every handler is instrumented where it is wired (`handler_for`): outcome counts and latency per stage,
the logging context (stage, message, attempt, document and order ids) while it runs, and the translate
stage's document verdicts (`gateway.observability`). `backlog` measures queue depths and the outbox
backlog for `/metrics`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select

from gateway.bus.base import (
    HEADER_HISTORY,
    HEADER_PARKED_STAGE,
    HEADER_REASON,
    PARKED_QUEUE,
    STAGES,
    Bus,
    BusMessage,
    BusSettings,
    Handler,
    Subscription,
)
from gateway.ingest import Ingestor
from gateway.observability.instrument import instrument, verdict_observer
from gateway.observability.metrics import BacklogProbe, Metrics, default_metrics
from gateway.pipeline import stages
from gateway.pipeline.consumer import idempotent
from gateway.pipeline.dispatch import Dispatcher
from gateway.pipeline.outbox import OutboxRelay, Publisher
from gateway.storage.database import Database
from gateway.storage.models import ParkedMessage
from gateway.storage.repository import utcnow

log = logging.getLogger("ordergate.pipeline")

PARKING = "parking"
ALL_STAGES = (*STAGES, PARKING)


class Pipeline:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        *,
        dispatcher: Dispatcher | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.database = database
        self.bus = bus
        self.metrics = metrics if metrics is not None else default_metrics()
        self.backlog = BacklogProbe(bus, database)
        self.relay = OutboxRelay(database, bus)  # what the API and operations enqueue
        self.publisher = Publisher(database, bus)  # what the stages cause
        self.ingestor = Ingestor(database)
        self.dispatcher = dispatcher or Dispatcher(database)
        self.dispatcher.publisher = self.publisher
        self._subscriptions: list[Subscription] = []

    def handler_for(self, stage: str) -> Handler:
        wrap = lambda name, fn: idempotent(name, fn, self.publisher)  # noqa: E731
        handler: Handler = {
            "intake": wrap("intake", stages.intake),
            "translate": wrap(
                "translate", stages.translate_stage(self.ingestor, verdict_observer(self.metrics))
            ),
            "review": wrap("review", stages.review),
            "route": wrap("route", stages.route_stage),
            "dispatch": self.dispatcher.handle,
            PARKING: self.record_parked,
        }[stage]
        settings = getattr(self.bus, "settings", None) or BusSettings()
        return instrument(stage, handler, metrics=self.metrics, settings=settings)

    async def start(self, stage_names: Iterable[str] = ALL_STAGES, *, concurrency: int | None = None) -> None:
        self.relay.start()
        for stage in stage_names:
            queue = "parked" if stage == PARKING else stage
            self.metrics.prepare_stage(stage)
            self._subscriptions.append(
                await self.bus.subscribe(queue, self.handler_for(stage), prefetch=concurrency)
            )
        log.info("pipeline running: %s", ", ".join(stage_names))

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            await subscription.stop()
        self._subscriptions.clear()
        await self.relay.stop()

    async def record_parked(self, message: BusMessage) -> None:
        """Keep a parked message where operations can list, replay or discard it."""
        headers = dict(message.headers)
        async with self.database.transaction() as session:
            exists = await session.scalar(
                select(ParkedMessage.id).where(
                    ParkedMessage.message_id == message.message_id, ParkedMessage.status == "open"
                )
            )
            if exists is not None:
                return
            previous = (
                await session.scalars(
                    select(ParkedMessage).where(ParkedMessage.message_id == message.message_id)
                )
            ).first()
            row = previous or ParkedMessage(message_id=message.message_id)
            row.stage = str(headers.get(HEADER_PARKED_STAGE) or message.queue)
            row.routing_key = message.routing_key.removeprefix(f"{PARKED_QUEUE}.")  # the original, for replay
            row.body = message.body
            row.headers = {k: v for k, v in headers.items() if isinstance(v, str | int | float | bool)}
            row.reason = str(headers.get(HEADER_REASON) or "parked")
            row.attempts = message.attempt
            row.history = [
                {"at": a.at, "queue": a.queue, "error": a.error} for a in message.history
            ] or _history_from_header(headers.get(HEADER_HISTORY))
            row.document_id = headers.get("document_id")
            row.order_id = headers.get("order_id")
            row.status = "open"
            row.parked_at = utcnow()
            if previous is None:
                session.add(row)
        self.metrics.observe_parked(row.stage)
        log.warning("parked %s from %s: %s", message.message_id, row.stage, row.reason)


def _history_from_header(value: object) -> list[dict[str, str]]:
    import json

    if isinstance(value, str | bytes) and value:
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return []
