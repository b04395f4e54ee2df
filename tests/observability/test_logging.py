"""Log records emitted inside a stage carry the stage, message, document and order ids; the formatters
print them as key=value text or JSON lines; order contents never reach the log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from gateway.bus.base import BusMessage, BusSettings, Park
from gateway.observability.instrument import instrument, message_ids
from gateway.observability.logs import (
    ContextFilter,
    JsonFormatter,
    KeyValueFormatter,
    configure_logging,
    log_context,
)
from gateway.observability.metrics import Metrics
from gateway.pipeline.runtime import Pipeline
from gateway.storage.database import Database
from gateway.storage.models import OrderRecord
from tests.observability.support import EDIFACT, eventually, order_statuses, set_up_partner, submit
from tests.pipeline.fake_3pl import Fake3PL


class _Records(logging.Handler):
    """Keeps the records that reach it, with the context filter a configured handler has."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[_Records]:
    handler = _Records()
    logger = logging.getLogger("ordergate")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


async def test_records_inside_each_stage_carry_the_document_and_order_ids(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL, records: _Records
) -> None:
    await set_up_partner(database, fake_3pl.url)
    document_id = await submit(database, pipeline, EDIFACT)

    async def dispatched() -> bool:
        return await order_statuses(database) == ["dispatched"]

    await eventually(dispatched)
    await eventually(lambda: any(getattr(r, "stage", None) == "dispatch" for r in records.records))
    [order_id] = await _order_ids(database)
    by_stage: dict[str, list[logging.LogRecord]] = {}
    for record in records.records:
        by_stage.setdefault(getattr(record, "stage", "-"), []).append(record)
    for stage in ("intake", "translate"):
        assert {getattr(r, "document_id", None) for r in by_stage[stage]} == {document_id}
    for stage in ("review", "route", "dispatch"):
        assert {getattr(r, "order_id", None) for r in by_stage[stage]} == {order_id}
    for stage_records in by_stage.values():
        for record in stage_records:
            assert isinstance(record.message_id, str) and record.attempt >= 1  # type: ignore[attr-defined]
    verdict = [r for r in by_stage["translate"] if r.getMessage().startswith("document accepted")]
    assert len(verdict) == 1 and verdict[0].document_id == document_id  # type: ignore[attr-defined]


async def test_a_parked_message_is_logged_with_its_order_id(
    database: Database, pipeline: Pipeline, fake_3pl: Fake3PL, records: _Records
) -> None:
    await set_up_partner(database, fake_3pl.url, route=False)
    await submit(database, pipeline, EDIFACT)
    await eventually(lambda: any(r.getMessage().startswith("parked ") for r in records.records))
    [order_id] = await _order_ids(database)
    [parked] = [r for r in records.records if r.getMessage().startswith("parked ")]
    assert (parked.stage, parked.order_id) == ("parking", order_id)  # type: ignore[attr-defined]
    [gave_up] = [r for r in records.records if getattr(r, "outcome", None) == "parked"]
    assert (gave_up.stage, gave_up.order_id, gave_up.levelname) == ("route", order_id, "WARNING")  # type: ignore[attr-defined]
    assert gave_up.exc_info is None  # a Park is expected: no traceback


async def test_context_reaches_threads_and_tasks_started_by_a_handler(records: _Records) -> None:
    inner = logging.getLogger("ordergate.test")

    async def handler(message: BusMessage) -> None:
        inner.info("in the handler")
        await asyncio.to_thread(inner.info, "in a worker thread")
        await asyncio.create_task(_log_later(inner))

    wrapped = instrument("review", handler, metrics=Metrics(), settings=BusSettings())
    message = BusMessage(routing_key="review.hexa._", body=b'{"order_id": "ord-1"}', attempt=2)
    await wrapped(message)
    ours = [r for r in records.records if r.name == "ordergate.test"]
    assert len(ours) == 3
    for record in ours:
        assert (record.stage, record.order_id, record.attempt) == ("review", "ord-1", 2)  # type: ignore[attr-defined]
        assert record.message_id == message.message_id  # type: ignore[attr-defined]
    inner.info("outside")
    assert not hasattr(records.records[-1], "stage")


async def test_order_contents_are_never_logged(records: _Records) -> None:
    body = json.dumps(
        {"order_id": "ord-9", "buyer": {"name": "Jane Doe", "street": "Secret Lane 1"}}
    ).encode()

    async def handler(message: BusMessage) -> None:
        raise Park("no destination for ord-9")

    wrapped = instrument("route", handler, metrics=Metrics(), settings=BusSettings())
    with pytest.raises(Park):
        await wrapped(BusMessage(routing_key="route.hexa._", body=body))
    stream = io.StringIO()
    handler_ = logging.StreamHandler(stream)
    handler_.setFormatter(JsonFormatter())
    for record in records.records:
        handler_.handle(record)
    text = stream.getvalue()
    assert "ord-9" in text
    assert "Jane Doe" not in text and "Secret Lane" not in text


def _record(message: str = "translate ok", exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("ordergate.pipeline", logging.INFO, __file__, 1, message, (), exc_info)
    ContextFilter().filter(record)
    return record


def test_the_text_format_appends_key_value_pairs() -> None:
    with log_context(stage="translate", document_id="doc-1", message_id="m 1", attempt=1):
        record = _record()
    line = KeyValueFormatter().format(record)
    assert line.endswith(
        'INFO ordergate.pipeline: translate ok stage=translate document_id=doc-1 message_id="m 1" attempt=1'
    )


def test_the_json_format_is_one_object_per_line() -> None:
    with log_context(stage="translate", document_id="doc-1", order_id=None):
        record = _record(exc=True)
    [line] = JsonFormatter().format(record).splitlines()
    entry = json.loads(line)
    assert entry["message"] == "translate ok" and entry["level"] == "INFO"
    assert entry["stage"] == "translate" and entry["document_id"] == "doc-1"
    assert "order_id" not in entry
    assert entry["time"].endswith("Z")
    assert "ValueError: bad" in entry["exception"]


def test_configure_logging_picks_the_format_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    level = root.level
    monkeypatch.setenv("ORDERGATE_LOG_FORMAT", "json")
    stream = io.StringIO()
    try:
        first = configure_logging(stream=stream)
        second = configure_logging(stream=stream)  # replaces, never stacks
        assert first not in root.handlers and second in root.handlers
        assert isinstance(second.formatter, JsonFormatter)
        with log_context(stage="dispatch", order_id="ord-2"):
            logging.getLogger("ordergate.test").info("sent")
        entry = json.loads(stream.getvalue().splitlines()[-1])
        assert (entry["message"], entry["stage"], entry["order_id"]) == ("sent", "dispatch", "ord-2")
        monkeypatch.delenv("ORDERGATE_LOG_FORMAT")
        assert isinstance(configure_logging(stream=stream).formatter, KeyValueFormatter)
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_ordergate", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)


async def _log_later(logger: logging.Logger) -> None:
    await asyncio.sleep(0)
    logger.info("in a task")


async def _order_ids(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.scalars(select(OrderRecord.id))).all())


def test_ids_come_from_headers_then_from_the_body_and_nothing_else() -> None:
    both = BusMessage(
        routing_key="review._._",
        body=b'{"order_id": "ord-1", "buyer": "Jane"}',
        headers={"document_id": b"doc-1"},
    )
    assert message_ids(both) == {"document_id": "doc-1", "order_id": "ord-1"}
    assert message_ids(BusMessage(routing_key="review._._", body=b"not json")) == {}
    assert message_ids(BusMessage(routing_key="review._._", body=b"{broken")) == {}


async def test_an_unexpected_error_is_counted_as_a_retry_and_logged_with_its_traceback(
    records: _Records, metrics: Metrics
) -> None:
    async def handler(message: BusMessage) -> None:
        raise RuntimeError("database went away")

    wrapped = instrument("review", handler, metrics=metrics, settings=BusSettings(max_attempts=5))
    with pytest.raises(RuntimeError):
        await wrapped(BusMessage(routing_key="review._._", body=b'{"order_id": "ord-3"}', attempt=2))
    [record] = [r for r in records.records if getattr(r, "outcome", None) == "retry"]
    assert record.getMessage().startswith("review failed on attempt 2 of 5")
    assert record.exc_info is not None and record.order_id == "ord-3"  # type: ignore[attr-defined]
    sample = metrics.registry.get_sample_value
    assert sample("ordergate_messages_handled_total", {"stage": "review", "outcome": "retry"}) == 1
    assert sample("ordergate_stage_handler_seconds_count", {"stage": "review"}) == 1
