"""The audit processor: one change item per INSERT/MODIFY/REMOVE, exact numbers, no duplicates."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from stream_pipeline.config import load_settings
from stream_pipeline.pipeline import Pipeline
from stream_pipeline.records import from_raw
from support import SINK, FakeContext, PipelineFactory, api_calls, change_batch, ddb_record, load_event, scan


def run(pipeline: Any, batch: list[dict[str, Any]]) -> Any:
    return pipeline.run(batch, FakeContext().get_remaining_time_in_millis)


def test_fixture_changes_become_audit_items(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    started = int(time.time())
    outcome = run(make_pipeline(), load_event("dynamodb_event.json")["Records"])
    finished = int(time.time())
    assert outcome.response() == {"batchItemFailures": []}
    assert outcome.event_counts == {"INSERT": 1, "MODIFY": 1, "REMOVE": 1}
    items = scan(dynamodb, SINK)
    assert [i["event_name"]["S"] for i in items] == ["INSERT", "MODIFY", "REMOVE"]
    assert {i["pk"]["S"] for i in items} == {'{"id":"order-101"}'}
    insert, modify, remove = items
    assert insert["sk"]["S"] == "2025-11-23T08:15:00.000000Z#" + "4421584500000000017450439091".zfill(40)
    # Typed images pass through: the 23-significant-digit number and the string set survive.
    assert insert["new_image"]["M"]["total"] == {"N": "19.990000000000000000001"}
    assert sorted(insert["new_image"]["M"]["tags"]["SS"]) == ["a", "b"]
    assert "old_image" not in insert
    assert modify["old_image"]["M"]["total"] == {"N": "19.990000000000000000001"}
    assert "new_image" not in remove
    # the fixture's own time is a year ago: at least half the 30 days from when the change was written
    assert started + 15 * 86400 <= int(remove["expires_at"]["N"]) <= finished + 15 * 86400


def test_images_become_plain_python_values_with_exact_numbers() -> None:
    record = from_raw(0, load_event("dynamodb_event.json")["Records"][0])
    keys, new, old = record.images()
    assert keys == {"id": "order-101"}
    assert new is not None
    assert new["total"] == Decimal("19.990000000000000000001")
    assert new["tags"] == {"a", "b"}
    assert old is None


def test_redelivery_creates_no_duplicates(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = change_batch(items=20)
    pipeline = make_pipeline()
    run(pipeline, batch)
    before = scan(dynamodb, SINK)
    run(pipeline, batch)
    run(pipeline, batch[10:])
    after = scan(dynamodb, SINK)
    # the same items; only the expiry may move on, as it counts from the latest write
    assert [{**i, "expires_at": None} for i in after] == [{**i, "expires_at": None} for i in before]
    assert all(int(a["expires_at"]["N"]) >= int(b["expires_at"]["N"]) for a, b in zip(after, before, strict=True))
    assert len(before) == 60


def test_writes_are_batched_25_at_a_time(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = change_batch(items=40)  # 120 changes
    with api_calls() as log:
        outcome = run(make_pipeline(), batch)
    assert outcome.processed == 120
    assert log.count("dynamodb", "BatchWriteItem") == 5
    assert log.count("dynamodb", "PutItem") == 0


def test_ttl_days_are_configurable(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    (record,) = change_batch(items=1)[:1]
    started = int(time.time())
    run(make_pipeline(AUDIT_TTL_DAYS="1"), [record])
    (item,) = scan(dynamodb, SINK)
    # the fixture's change is a year old: it lives half the one day from the write
    assert started + 43200 <= int(item["expires_at"]["N"]) <= int(time.time()) + 43200
    assert TypeDeserializer().deserialize(item["keys"]) == {"id": "item-0"}


def test_long_sequence_numbers_are_accepted(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    """LocalStack's DynamoDB Streams use 56-digit sequence numbers; AWS uses 21 to 40 digits."""
    (record,) = change_batch(items=1)[:1]
    record["dynamodb"]["SequenceNumber"] = "49680486566823875339164415477641284339560002043361886210"
    outcome = run(make_pipeline(), [record])
    assert outcome.failed == 0
    (item,) = scan(dynamodb, SINK)
    assert item["sk"]["S"].endswith("#49680486566823875339164415477641284339560002043361886210")


def test_binary_attributes_are_stored_as_the_source_bytes(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    """The event carries B/BS as base64 text; the audit item must hold the bytes, not the text's bytes."""
    raw = bytes([0, 1, 2])
    text = "AAEC"  # base64 of 00 01 02
    image = {
        "id": {"B": text},
        "blob": {"B": text},
        "blobs": {"BS": [text, "/w=="]},
        "nested": {"M": {"inner": {"B": text}, "list": {"L": [{"B": text}, {"S": "AAEC"}]}}},
    }
    record = ddb_record("INSERT", "ignored", new=image, sequence=77)
    record["dynamodb"]["Keys"] = {"id": {"B": text}}
    outcome = run(make_pipeline(), [record])
    assert outcome.failed == 0
    (item,) = scan(dynamodb, SINK)
    new_image = item["new_image"]["M"]
    assert new_image["blob"] == {"B": raw}
    assert sorted(new_image["blobs"]["BS"]) == [raw, b"\xff"]
    assert new_image["nested"]["M"]["inner"] == {"B": raw}
    assert new_image["nested"]["M"]["list"]["L"] == [{"B": raw}, {"S": "AAEC"}]  # strings stay strings
    assert item["keys"]["M"]["id"] == {"B": raw}


def test_a_binary_attribute_that_is_not_base64_is_poison(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    record = ddb_record("INSERT", "k", new={"id": {"S": "k"}, "blob": {"B": "not base64!"}}, sequence=78)
    outcome = run(make_pipeline(), [record])
    assert outcome.failed == 1
    assert scan(dynamodb, SINK) == []


def test_a_ttl_expiry_keeps_who_deleted_and_a_users_delete_has_no_identity(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """tests/fixtures/dynamodb_ttl_event.json: a REMOVE by DynamoDB's Time to Live, then a user's."""
    outcome = run(make_pipeline(), load_event("dynamodb_ttl_event.json")["Records"])
    assert outcome.failed == 0
    assert outcome.event_counts == {"REMOVE": 2}
    assert outcome.ttl_deletes == 1
    expired, deleted = scan(dynamodb, SINK)
    assert expired["pk"] == {"S": '{"id":"session-7"}'}
    assert expired["user_identity"] == {"M": {"type": {"S": "Service"}, "principalId": {"S": "dynamodb.amazonaws.com"}}}
    assert expired["deleted_by_ttl"] == {"BOOL": True}
    assert "user_identity" not in deleted
    assert "deleted_by_ttl" not in deleted


def test_ttl_deletes_are_counted_apart_in_the_metrics(monkeypatch: Any, dynamodb: Any, capsys: Any) -> None:
    import json

    from support import fresh_handler

    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.delenv("RECORD_PROCESSOR", raising=False)
    batch = [*change_batch(items=2), *load_event("dynamodb_ttl_event.json")["Records"]]
    assert fresh_handler().lambda_handler({"Records": batch}, FakeContext()) == {"batchItemFailures": []}
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {m["Name"]: m["Unit"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names["TtlDeleteEvents"] == "Count"
    assert (emf["RemoveEvents"], emf["TtlDeleteEvents"]) == ([4.0], [1.0])  # both REMOVEs of change_batch, and 2 here


def test_a_user_identity_claiming_ttl_on_an_insert_is_not_a_ttl_delete(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """Only a REMOVE can be an expiry; the identity is still kept, as the record says."""
    record = ddb_record("INSERT", "k", new={"id": {"S": "k"}}, sequence=91)
    record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    outcome = run(make_pipeline(), [record])
    assert outcome.ttl_deletes == 0
    (item,) = scan(dynamodb, SINK)
    assert "deleted_by_ttl" not in item
    assert item["user_identity"]["M"]["type"] == {"S": "Service"}


NOW = 1_800_000_000.0
DAY = 86_400


@pytest.mark.parametrize(("age_days", "ttl_days"), [(100, 30), (100, 90), (0, 30), (-2, 30)])
def test_the_expiry_counts_from_when_the_change_is_written_not_from_its_creation(
    dynamodb: Any, age_days: int, ttl_days: int
) -> None:
    """A change replayed or redriven long after it was made (failures wait up to 90 days, audit items
    live 30) must not be written already expired, where DynamoDB's TTL would delete it: the expiry is
    the creation time plus the TTL, and never less than half the TTL after the write. A creation time
    ahead of our clock counts."""
    settings = load_settings({"SINK_TABLE_NAME": SINK, "AUDIT_TTL_DAYS": str(ttl_days)})
    pipeline = Pipeline(settings, logging.getLogger("test"), client_factory=lambda: dynamodb, clock=lambda: NOW)
    created = NOW - age_days * DAY
    record = ddb_record("INSERT", "old", new={"id": {"S": "old"}}, sequence=77, created=created)
    assert pipeline.run([record], lambda: 30_000).failures == []
    (item,) = scan(dynamodb, SINK)
    assert int(item["expires_at"]["N"]) == max(int(created) + ttl_days * DAY, int(NOW) + ttl_days * DAY // 2)
    assert int(item["expires_at"]["N"]) >= NOW + ttl_days * DAY // 2  # never written already expired


def test_a_recent_change_redelivered_later_writes_the_very_same_item(dynamodb: Any) -> None:
    """A retry or a redrive of a recent change rewrites nothing: its expiry counts from its creation,
    not from the write (before, every redelivery moved the expiry on, so a forged failure message
    naming healthy changes altered the sink)."""
    settings = load_settings({"SINK_TABLE_NAME": SINK})
    record = ddb_record("INSERT", "fresh", new={"id": {"S": "fresh"}}, sequence=78, created=NOW - DAY)
    first = Pipeline(settings, logging.getLogger("test"), client_factory=lambda: dynamodb, clock=lambda: NOW)
    assert first.run([record], lambda: 30_000).failures == []
    before = scan(dynamodb, SINK)
    later = Pipeline(settings, logging.getLogger("test"), client_factory=lambda: dynamodb, clock=lambda: NOW + 3 * DAY)
    assert later.run([record], lambda: 30_000).failures == []
    assert scan(dynamodb, SINK) == before
