"""The local harness's bench helpers: the emulator-only shard override and the race's invocation count."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from stream_pipeline_local import measure
from stream_pipeline_local.common import ROOT
from stream_pipeline_local.terraform import emulator_shards

if TYPE_CHECKING:
    from pathlib import Path


def test_the_emulator_shard_override_changes_the_shards_and_nothing_else() -> None:
    example = ROOT / "examples" / "kinesis-alleycat"
    before = (example / "main.tf").read_text()
    with emulator_shards("kinesis-alleycat", 64) as override:
        assert override.parent == example
        assert override.name.endswith("_override.tf.json")  # Terraform merges it into the module block
        module = json.loads(override.read_text())["module"]["pipeline"]
    assert not override.exists(), "the override must not outlive the block"
    assert (example / "main.tf").read_text() == before
    assert module["kinesis"] == {
        "stream_mode": "PROVISIONED",
        "shard_count": 64,
        "retention_hours": 24,
        "enhanced_fan_out": False,
    }
    # The example reserves no concurrency (-1, the default): none is added.
    assert module["function"] == {
        "memory_mb": 256,
        "timeout_seconds": 30,
        "reserved_concurrency": -1,
        "record_processor": "alleycat",
    }


def test_a_reservation_is_raised_to_every_concurrent_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module refuses reserved concurrency below shards x parallelization factor (2 here)."""
    import stream_pipeline_local.terraform as tf

    example = tmp_path / "examples" / "reserved"
    example.mkdir(parents=True)
    (example / "main.tf").write_text(
        'module "pipeline" {\n  source = "../.."\n  kinesis = { shard_count = 2 }\n'
        "  function = { reserved_concurrency = 4 }\n  event_source_mapping = { parallelization_factor = 2 }\n}\n"
    )
    monkeypatch.setattr(tf, "example_dir", lambda _name: example)
    with emulator_shards("reserved", 64) as override:
        module = json.loads(override.read_text())["module"]["pipeline"]
    assert module["function"]["reserved_concurrency"] == 128


def test_the_override_is_removed_when_the_block_fails() -> None:
    override = ROOT / "examples" / "kinesis-alleycat" / "emulator_override.tf.json"

    def failing_apply() -> None:
        with emulator_shards("kinesis-alleycat", 4):
            assert override.exists()
            raise RuntimeError("apply failed")

    with pytest.raises(RuntimeError, match="apply failed"):
        failing_apply()
    assert not override.exists()


class Logs:
    """filter_log_events over pages, as CloudWatch Logs returns them."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def filter_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        index = int(kwargs.get("nextToken", 0))
        page: dict[str, Any] = {"events": [{"message": line} for line in self.pages[index]]}
        if index + 1 < len(self.pages):
            page["nextToken"] = str(index + 1)
        return page


def test_invocation_durations_come_from_every_report_line_on_every_page() -> None:
    report = "REPORT RequestId: {0}\tDuration: {1} ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\n"
    logs = Logs(
        [
            [report.format("a", "12.50"), "START RequestId: a Version: $LATEST\n"],
            [report.format("b", "1500.00") + "\tInit Duration: 300.00 ms"],
        ]
    )
    assert measure.invocation_durations_ms(logs, "/aws/lambda/f", 0) == [12.5, 1500.0]
    assert [call["filterPattern"] for call in logs.calls] == ["REPORT", "REPORT"]


def test_a_failed_batch_of_aggregates_counts_its_user_records(aws_credentials: None) -> None:
    """An aggregated race balances in user records: a failure message's range is read back from the
    stream and each aggregate counted as the user records it carries (a plain record as one)."""
    import boto3
    from moto import mock_aws

    from support import aggregate

    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName="race", ShardCount=1)
        ((key, blob),) = aggregate([(str(n), b"{}") for n in range(7)])
        puts = [
            kinesis.put_record(StreamName="race", PartitionKey=key, Data=blob),
            kinesis.put_record(StreamName="race", PartitionKey="plain", Data=b"{}"),
            kinesis.put_record(StreamName="race", PartitionKey="after", Data=b"{}"),  # outside the range
        ]
        info = {"shardId": puts[0]["ShardId"], "startSequenceNumber": puts[0]["SequenceNumber"],
                "endSequenceNumber": puts[1]["SequenceNumber"], "batchSize": 2,
                "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/race"}  # fmt: skip
        assert measure.user_records_in(kinesis, info) == 8


def test_make_up_opens_the_example_s_own_kinesis_stream_with_the_emulator_shards_and_says_so() -> None:
    """`make up` applies the bench's emulator settings to the examples that open a Kinesis stream of
    their own, and prints each with what the example (or LocalStack) would have had."""
    from stream_pipeline_local import localstack
    from stream_pipeline_local.common import EMULATOR_SHARDS, POLL_INTERVAL_S
    from stream_pipeline_local.terraform import planned_shards

    assert planned_shards("kinesis-alleycat") == 2 < EMULATOR_SHARDS
    assert planned_shards("dynamodb-streams") is None  # no stream of its own to open with more shards
    assert planned_shards("bring-your-own") is None  # another stack's stream
    lines = localstack.emulator_lines("kinesis-alleycat", 2, POLL_INTERVAL_S)
    assert lines[0].startswith(f"{EMULATOR_SHARDS} Kinesis shards instead of the example's 2 ")
    assert "emulator_override.tf.json, present during the apply only" in lines[0]
    assert lines[1].startswith(f"the event source mapping polls every {POLL_INTERVAL_S} s instead of LocalStack's 1 s")
    (running,) = localstack.emulator_lines("dynamodb-streams", None, None)
    assert running.startswith("LocalStack was already running with LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC=1")
