"""The Lambda entry point: partial batch response, EMF metrics, structured logs, no CloudWatch calls."""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

import pytest

from support import SINK, FakeContext, api_calls, change_batch, ddb_record, fresh_handler, kinesis_record, race_batch


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, dynamodb: Any) -> None:
    """The environment of a function with a (moto) sink."""
    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.setenv("METRICS_NAMESPACE", "StreamPipelineTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "alleycat-test")  # restored after the test
    monkeypatch.delenv("RECORD_PROCESSOR", raising=False)


def output_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def metric(emf: dict[str, Any], name: str) -> Any:
    """A metric's value: Powertools writes single values as one-element lists."""
    value = emf[name]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def emf_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" in line]


def test_kinesis_batch_emits_one_emf_line_and_no_cloudwatch_calls(
    handler_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fresh_handler()
    batch = [*race_batch(racers=5, seconds=30), kinesis_record(data="???")]  # 150 good, 1 poison
    with api_calls() as log:
        response = handler.lambda_handler({"Records": batch}, FakeContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": batch[-1]["kinesis"]["sequenceNumber"]}]}
    assert "cloudwatch" not in log.services()
    assert log.count("dynamodb", "PutItem") == 5  # the spy works, and one write per racer

    (emf,) = emf_lines(output_lines(capsys))
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "StreamPipelineTest"
    assert directive["Dimensions"] == [["SourceType", "service"]] or directive["Dimensions"] == [
        ["service", "SourceType"]
    ]
    assert emf["service"].startswith("alleycat-test-")
    assert emf["SourceType"] == "kinesis"
    assert metric(emf, "BatchSize") == 151
    assert metric(emf, "RecordsProcessed") == 150
    assert metric(emf, "RecordsFailed") == 1
    assert metric(emf, "SinkWriteRequests") == 5
    latencies = emf["ProcessingLatency"]
    assert isinstance(latencies, list)
    assert len(latencies) == 99  # quantile samples of 150 latencies: one line, not two
    assert latencies == sorted(latencies)
    assert latencies[0] > 0
    names = {m["Name"] for m in directive["Metrics"]}
    assert "InsertEvents" not in names  # DynamoDB-only metrics stay off Kinesis batches


def test_dynamodb_batch_counts_insert_modify_remove(handler_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    handler = fresh_handler()
    batch = change_batch(items=4)
    response = handler.lambda_handler({"Records": batch}, FakeContext())
    assert response == {"batchItemFailures": []}
    (emf,) = emf_lines(output_lines(capsys))
    assert emf["SourceType"] == "dynamodb"
    assert (metric(emf, "InsertEvents"), metric(emf, "ModifyEvents"), metric(emf, "RemoveEvents")) == (4, 4, 4)
    assert metric(emf, "RecordsProcessed") == 12


def test_logs_name_the_failed_record_and_summarise_the_rest_in_one_line(
    handler_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fresh_handler()
    big = "A" * 200_000
    batch = [*race_batch(racers=2, seconds=1), kinesis_record(data=big), *race_batch(racers=2, seconds=1)]
    context = FakeContext(aws_request_id="req-123")
    handler.lambda_handler({"Records": batch}, context)
    captured = capsys.readouterr().out
    assert big[:1000] not in captured  # never the payload of a large record
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    (failed,) = [line for line in lines if line.get("message") == "record failed"]
    (rest,) = [line for line in lines if line.get("message") == "records not attempted"]
    assert failed["sequence_number"] == batch[2]["kinesis"]["sequenceNumber"]
    assert "larger than" in failed["reason"]
    assert rest["count"] == 2
    assert rest["first_sequence_number"] == batch[3]["kinesis"]["sequenceNumber"]
    assert rest["last_sequence_number"] == batch[4]["kinesis"]["sequenceNumber"]
    assert rest["reason"].startswith("not attempted")
    assert failed["function_request_id"] == rest["function_request_id"] == "req-123"


def test_a_poison_first_record_of_a_large_batch_writes_two_warning_lines(
    handler_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Measured before: 10,000 lines (about 4.5 MB) per attempt, paid again on every retry and bisection."""
    handler = fresh_handler()
    batch = [kinesis_record(data="not base64!"), *race_batch(racers=100, seconds=100)[:9_999]]
    response = handler.lambda_handler({"Records": batch}, FakeContext())
    assert len(response["batchItemFailures"]) == 10_000
    captured = capsys.readouterr().out
    warnings = [line for line in captured.splitlines() if '"level":"WARNING"' in line]
    assert len(warnings) == 2
    assert len(captured) < 20_000


def test_a_batch_stuck_on_a_poison_first_record_is_counted_under_its_source_type(
    handler_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dashboard and the handled-failure alarm watch SourceType=kinesis|dynamodb, never `unknown`."""
    handler = fresh_handler()
    for poison, source in (
        (kinesis_record(data="not base64!"), "kinesis"),
        (ddb_record("UPSERT", "k", new={"id": {"S": "k"}}, sequence=5), "dynamodb"),
    ):
        handler.lambda_handler({"Records": [poison]}, FakeContext())
        (emf,) = emf_lines(output_lines(capsys))
        assert emf["SourceType"] == source
        assert metric(emf, "RecordsFailed") == 1


def test_whole_batch_failure_is_reported_not_raised(
    handler_env: None, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fresh_handler()
    dynamodb.delete_table(TableName=SINK)
    batch = race_batch(racers=3, seconds=1)
    response = handler.lambda_handler({"Records": batch}, FakeContext())
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in batch
    ]
    (emf,) = emf_lines(output_lines(capsys))
    assert metric(emf, "RecordsFailed") == 3


@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_an_event_without_records_is_a_clear_error(handler_env: None) -> None:
    handler = fresh_handler()
    with pytest.raises(TypeError, match="no Records list"):
        handler.lambda_handler({"hello": "world"}, FakeContext())


def test_custom_record_processor_is_called_per_record(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    plugin = ModuleType("team_plugin")

    def handle(record: Any) -> None:
        if record.partition_key == "3":
            raise ValueError("racer 3 is banned")
        seen.append(record.sequence_number)

    plugin.handle = handle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "team_plugin", plugin)
    monkeypatch.setenv("RECORD_PROCESSOR", "team_plugin:handle")
    handler = fresh_handler()
    batch = race_batch(racers=4, seconds=1)
    response = handler.lambda_handler({"Records": batch}, FakeContext())
    assert seen == [r["kinesis"]["sequenceNumber"] for r in batch[:2]]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in batch[2:]
    ]
