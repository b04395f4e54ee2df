"""`ordergate failed …` and `ordergate audit list` on the embedded default (SQLite), in-process: the
unified listing over document failures (f<n>) and parked messages (p<n>), replay (queued, or `--now`),
discard with a reason, clear errors, and every action in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.bus.base import BusMessage
from gateway.ingest import Ingestor
from gateway.pipeline import stages
from gateway.settings import Settings
from gateway.storage import repository as repo
from gateway.storage.database import Database
from tests.ops.helpers import (
    EDIFACT,
    HEXA_EDIFACT_ID,
    audit_rows,
    cli,
    cli_json,
    outbox,
    park,
    parked_status,
    with_database,
)


@pytest.fixture(autouse=True)
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("USER", "carol")
    return settings.home


def failed_document() -> dict:  # type: ignore[type-arg]
    """Ingest the EDIFACT sample before its sender is registered: one open document failure."""
    code, output = cli("ingest", str(EDIFACT))
    assert code == 1, output
    [failure] = cli_json("failed", "list", "--kind", "documents")["failures"]
    return failure  # type: ignore[no-any-return]


def test_list_merges_both_kinds_newest_first() -> None:
    failure = failed_document()
    parked_id, _ = park()
    listed = cli_json("failed", "list")["failures"]
    assert [(i["kind"], i["id"]) for i in listed] == [("message", parked_id), ("document", failure["id"])]
    message, document = listed
    assert document["id"].startswith("f") and document["code"] == "UNKNOWN_SENDER"
    assert document["where"] == "UNB #1 0004" and document["attempts"] is None
    assert (document["segment"], document["position"], document["element"]) == ("UNB", 1, "0004")
    assert message["stage"] == "route" and message["attempts"] == 3 and message["code"] is None
    assert message["where"] == "order 01ordernotreal" and message["order_id"] == "01ordernotreal"
    assert message["reason"].startswith("partner 'hexa' has no default destination")

    code, output = cli("failed", "list")
    assert code == 0
    header, _, first, second = output.splitlines()
    assert header.split() == ["KIND", "ID", "STAGE", "CODE/REASON", "WHERE", "ATTEMPTS", "AT"]
    assert first.split()[:3] == ["message", parked_id, "route"] and "order 01ordernotreal" in first
    assert second.split()[:4] == ["document", failure["id"], "translate", "UNKNOWN_SENDER"]
    assert "UNB #1 0004" in second

    assert [i["id"] for i in cli_json("failed", "list", "--kind", "messages")["failures"]] == [parked_id]
    assert [i["id"] for i in cli_json("failed", "list", "--kind", "documents")["failures"]] == [failure["id"]]
    assert [i["id"] for i in cli_json("failed", "list", "--limit", "1")["failures"]] == [parked_id]
    code, output = cli("failed", "list", "--kind", "everything")
    assert code == 2 and "everything" in output


def test_replay_now_after_registering_the_partner_accepts_the_document() -> None:
    failure = failed_document()
    document_id = failure["document_id"]
    code, output = cli("partners", "add", "hexa", "--edifact", HEXA_EDIFACT_ID)
    assert code == 0, output

    code, output = cli(
        "failed", "replay", failure["id"], "--now", "--reason", "registered hexa", "--actor", "alice"
    )
    assert code == 0, output
    assert f"{failure['id']}: replayed and reprocessed: document {document_id} accepted, 1 order(s)" in output

    [order] = cli_json("orders", "list")["orders"]
    assert (order["order_number"], order["partner"], order["document_id"]) == ("PO-4711", "hexa", document_id)
    assert cli_json("documents", "show", document_id)["status"] == "accepted"
    assert "no failures" in cli("failed", "list")[1]
    [replayed] = cli_json("failed", "list", "--status", "all")["failures"]
    assert (replayed["id"], replayed["status"]) == (failure["id"], "replayed")

    [entry] = cli_json("audit", "list")["entries"]
    assert (entry["actor"], entry["action"], entry["target"], entry["reason"]) == (
        "alice",
        "replay",
        f"failure:{failure['id'][1:]}",
        "registered hexa",
    )
    assert entry["detail"] == {"document": document_id}
    shown = cli_json("failed", "show", failure["id"])
    assert [(a["actor"], a["action"]) for a in shown["audit"]] == [("alice", "replay")]

    code, output = cli("failed", "replay", failure["id"], "--now")
    assert code == 1 and f"{failure['id']} is already replayed" in output


def test_the_intake_message_queued_by_replay_now_is_a_no_op_for_a_later_pipeline() -> None:
    failure = failed_document()
    cli("partners", "add", "hexa", "--edifact", HEXA_EDIFACT_ID)
    assert cli("failed", "replay", failure["id"], "--now")[0] == 0
    intake = [m for m in outbox() if m.routing_key.startswith("intake.")]
    assert len(intake) == 1
    [review] = [m for m in outbox() if m.routing_key.startswith("review.")]  # the order goes on

    async def consume(database: Database) -> list[BusMessage]:
        async with database.transaction() as session:
            message = BusMessage(
                routing_key=intake[0].routing_key, body=intake[0].body, message_id=intake[0].message_id
            )
            outcome = (await stages.intake(session, [message]))[message.message_id]
            assert not isinstance(outcome, BaseException)
            return list(outcome)

    assert with_database(consume) == []  # the document is processed already: nothing is translated twice
    assert len(cli_json("orders", "list")["orders"]) == 1
    assert review.headers["order_id"] == cli_json("orders", "list")["orders"][0]["id"]


def test_replay_now_that_fails_again_records_a_new_failure_and_exits_1() -> None:
    failure = failed_document()
    code, output = cli("failed", "replay", failure["id"], "--now", "--json")
    assert code == 1
    payload = json.loads(output)
    [result] = payload["results"]
    assert result["status"] == "replayed" and result["processed"]["status"] == "failed"
    new = result["processed"]["failure"]
    assert new != failure["id"] and result["processed"]["errors"][0]["code"] == "UNKNOWN_SENDER"
    assert [i["id"] for i in cli_json("failed", "list")["failures"]] == [new]
    code, output = cli("failed", "replay", new, "--now")
    assert code == 1 and "failed again, see f" in output


def test_replay_now_that_breaks_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = failed_document()
    outbox_before = len(outbox())

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Ingestor, "store", broken)
    code, output = cli("failed", "replay", failure["id"], "--now", "--actor", "alice")
    assert code == 1
    assert "reprocessing failed (RuntimeError: disk on fire)" in output and "still open" in output
    assert cli_json("failed", "list")["failures"][0]["status"] == "open"
    assert cli_json("documents", "show", failure["document_id"])["status"] == "failed"
    assert len(outbox()) == outbox_before and audit_rows() == []


def test_replay_without_now_queues_the_document_for_the_pipeline() -> None:
    failure = failed_document()
    code, output = cli("failed", "replay", failure["id"])
    assert code == 0, output
    assert f"{failure['id']}: queued for reprocessing (document {failure['document_id']})" in output
    assert "--now" in output  # the hint for a gateway without a running pipeline
    assert cli_json("documents", "show", failure["document_id"])["status"] == "received"
    [intake] = [m for m in outbox() if m.routing_key.startswith("intake.")]
    assert intake.headers == {"document_id": failure["document_id"]}
    [entry] = audit_rows()
    assert (entry.actor, entry.action, entry.reason) == ("carol", "replay", None)  # $USER


def test_parked_message_replay_republishes_the_original_and_marks_it_replayed() -> None:
    parked_id, message_id = park()
    code, output = cli("failed", "show", parked_id)
    assert code == 0, output
    for text in (
        "parked message",
        "route.hexa._",
        message_id,
        "attempts     3",
        "1. 2026-01-01T10:00:00  route: Park: partner 'hexa'",
        "3. 2026-01-01T10:02:00",
        "trace: t-1",
        'body (json):\n  {\n    "order_id": "01ordernotreal"\n  }',
    ):
        assert text in output, text
    shown = cli_json("failed", "show", parked_id)
    assert shown["body"] == {"order_id": "01ordernotreal"} and shown["body_format"] == "json"
    assert len(shown["history"]) == 3 and shown["routing_key"] == "route.hexa._"

    payload = cli_json("failed", "replay", parked_id, "--reason", "destination configured", "--actor", "bob")
    [result] = payload["results"]
    assert payload["errors"] == []
    assert (result["id"], result["status"], result["queued"]) == (parked_id, "replayed", True)
    assert (result["message_id"], result["routing_key"]) == (message_id, "route.hexa._")

    [row] = outbox(message_id)
    assert row.routing_key == "route.hexa._" and row.published_at is None
    assert row.body == b'{"order_id": "01ordernotreal"}'
    assert row.headers == {"order_id": "01ordernotreal", "trace": "t-1"}  # x-og-* dropped
    assert parked_status(parked_id) == "replayed"
    [entry] = audit_rows()
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "bob",
        "replay",
        f"parked:{parked_id[1:]}",
        "destination configured",
    )

    code, output = cli("failed", "replay", parked_id)
    assert code == 1 and f"{parked_id} is already replayed" in output
    code, output = cli("failed", "discard", parked_id, "--reason", "too late")
    assert code == 1 and f"{parked_id} is already replayed" in output
    assert len(outbox(message_id)) == 1 and len(audit_rows()) == 1


def test_a_parked_prefix_is_stripped_and_an_unroutable_key_is_refused() -> None:
    prefixed, message_id = park(routing_key="parked.route.hexa._")
    assert cli("failed", "replay", prefixed)[0] == 0
    assert [r.routing_key for r in outbox(message_id)] == ["route.hexa._"]

    unroutable, message_id = park(routing_key="nowhere.hexa._")
    code, output = cli("failed", "replay", unroutable)
    assert code == 1 and f"{unroutable} cannot be replayed" in output and "names no queue" in output
    assert outbox(message_id) == [] and parked_status(unroutable) == "open"


def test_discard_requires_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = failed_document()
    parked_id, _ = park()
    code, output = cli("failed", "discard", failure["id"])
    assert code == 2 and "--reason" in output
    code, output = cli("failed", "discard", failure["id"], "--reason", "   ")
    assert code == 2 and "a reason is required" in output
    assert audit_rows() == []

    monkeypatch.delenv("USER")
    code, output = cli(
        "failed", "discard", failure["id"], parked_id, "--reason", "test file, never onboarded"
    )
    assert code == 0, output
    assert f"{failure['id']}: discarded" in output and f"{parked_id}: discarded" in output
    assert parked_status(parked_id) == "discarded"
    assert "no failures" in cli("failed", "list")[1]
    discarded = cli_json("failed", "list", "--status", "discarded")["failures"]
    assert {i["id"] for i in discarded} == {failure["id"], parked_id}
    header = cli("failed", "list", "--status", "all")[1].splitlines()[0].split()
    assert header[:3] == ["KIND", "ID", "STATUS"]

    assert [(e.actor, e.action, e.target, e.reason) for e in audit_rows()] == [
        ("cli", "discard", f"failure:{failure['id'][1:]}", "test file, never onboarded"),
        ("cli", "discard", f"parked:{parked_id[1:]}", "test file, never onboarded"),
    ]
    code, output = cli("failed", "replay", failure["id"])
    assert code == 1 and f"{failure['id']} is already discarded" in output


def test_unknown_and_malformed_ids_are_clear_errors() -> None:
    failure = failed_document()
    parked_id, _ = park()
    for args, message in (
        (("failed", "show", "f999"), "no document failure f999"),
        (("failed", "show", "p999"), "no parked message p999"),
        (("failed", "show", "12"), "ids are f<n> for a document failure, p<n> for a parked pipeline message"),
        (("failed", "replay", "f999"), "no document failure f999"),
        (("failed", "replay", "x1"), "no failed record 'x1'"),
        (("failed", "discard", "p999", "--reason", "r"), "no parked message p999"),
        (("failed", "replay", parked_id, "--now"), "--now reprocesses document failures only"),
        (("failed", "replay", failure["id"], "--actor", "x" * 101), "1 to 100 characters"),
    ):
        code, output = cli(*args)
        assert code in (1, 2) and message in output, (args, output)
    assert cli("failed", "replay", "x1")[0] == 1
    assert cli("failed", "replay", parked_id, "--now")[0] == 1
    assert parked_status(parked_id) == "open" and audit_rows() == []


def test_replaying_several_ids_acts_on_each_and_reports_the_rest() -> None:
    failure = failed_document()
    parked_id, _ = park()
    code, output = cli("failed", "replay", failure["id"], "f999", parked_id, failure["id"].upper())
    assert code == 1
    assert f"{failure['id']}: queued for reprocessing" in output
    assert f"{parked_id}: queued for reprocessing" in output
    assert "error: no document failure f999" in output
    assert output.count("queued for reprocessing") == 2  # F1 and f1 are one record, replayed once
    assert [e.target for e in audit_rows()] == [f"failure:{failure['id'][1:]}", f"parked:{parked_id[1:]}"]


def test_audit_list_is_newest_first() -> None:
    assert "the audit log is empty" in cli("audit", "list")[1]
    failure = failed_document()
    parked_id, _ = park()
    cli("failed", "replay", parked_id, "--reason", "first", "--actor", "bob")
    cli("failed", "discard", failure["id"], "--reason", "second", "--actor", "alice")
    entries = cli_json("audit", "list")["entries"]
    assert [(e["actor"], e["action"], e["reason"]) for e in entries] == [
        ("alice", "discard", "second"),
        ("bob", "replay", "first"),
    ]
    assert [e["reason"] for e in cli_json("audit", "list", "--limit", "1")["entries"]] == ["second"]
    code, output = cli("audit", "list")
    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == ["AT", "ACTOR", "ACTION", "TARGET", "REASON", "DETAIL"]
    assert "alice" in lines[2] and f"failure:{failure['id'][1:]}" in lines[2]
    assert "stage=route" in lines[3]


def test_replay_now_judges_duplicates_like_any_processing() -> None:
    """`--now` stores in the replay's transaction what `Ingestor.process` would store: same verdict."""
    failure = failed_document()
    cli("partners", "add", "hexa", "--edifact", HEXA_EDIFACT_ID)
    code, _ = cli("ingest", str(EDIFACT))  # processed the ordinary way, now that hexa is registered
    assert code == 0
    code, output = cli("failed", "replay", failure["id"], "--now")
    # Same bytes were accepted meanwhile: the replay is judged a duplicate, exactly as process() would.
    assert code == 1 and "DUPLICATE_DOCUMENT" in output

    async def document_status(database: Database) -> str | None:
        async with database.session() as session:
            document = await repo.get_document(session, failure["document_id"])
            return document.status if document else None

    assert with_database(document_status) == "failed"
