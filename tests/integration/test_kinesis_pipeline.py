"""examples/kinesis-alleycat on LocalStack: records in, standings out, poison to the queue, alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

from stack_support import Stack, client, put, wait_for
from stream_pipeline_local import measure
from stream_pipeline_local.common import ENDPOINT
from support import expected_standings, standings_in, telemetry

ROOT = Path(__file__).resolve().parents[2]
KNOWN_DRIFT = {
    # LocalStack ignores tags on CreateStream, so the first plan after apply wants to add them again.
    "module.pipeline.module.stream.aws_kinesis_stream.this[0]": {"tags_all"},
}


def as_event_record(entry: dict[str, Any]) -> dict[str, Any]:
    import base64

    return {"kinesis": {"data": base64.b64encode(entry["Data"]).decode()}}


def changed_attributes(change: dict[str, Any]) -> set[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key) or unknown.get(key)}


def test_plan_after_apply_is_empty_but_for_the_known_emulator_drift(kinesis_stack: Stack) -> None:
    plan = kinesis_stack.plan()
    changes = {
        rc["address"]: changed_attributes(rc["change"])
        for rc in plan["resource_changes"]
        if rc["change"]["actions"] != ["no-op"]
    }
    assert changes == KNOWN_DRIFT


def test_race_telemetry_becomes_standings(kinesis_stack: Stack) -> None:
    stream, sink = kinesis_stack.outputs["stream_name"], kinesis_stack.outputs["sink_table_name"]
    messages = [
        (racer, telemetry(racer, second, race=race, event="final" if second == 3 else "update"))
        for race in (1, 2)
        for second in (1, 2, 3)
        for racer in range(1, 9)
    ]
    sent = put(stream, messages)
    expected = expected_standings([as_event_record(e) for e in sent])
    stored = wait_for(lambda: standings_in(client("dynamodb"), sink), lambda s: s == expected)
    assert stored == expected
    assert len(stored) == 16
    assert all("final_output" in entry for entry in stored.values())


def _failure_ranges(queue_url: str) -> list[dict[str, Any]]:
    sqs = client("sqs")
    found = []
    for _ in range(5):
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not response.get("Messages"):
            break
    return found


def _records_in(info: dict[str, Any]) -> set[str]:
    """The sequence numbers that an on-failure message's range covers, read back from the stream."""
    kinesis = client("kinesis")
    batch = info["KinesisBatchInfo"]
    iterator = kinesis.get_shard_iterator(
        StreamName=batch["streamArn"].split("/")[-1],
        ShardId=batch["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=batch["startSequenceNumber"],
    )["ShardIterator"]
    end = int(batch["endSequenceNumber"])
    covered: set[str] = set()
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        covered |= {r["SequenceNumber"] for r in page["Records"] if int(r["SequenceNumber"]) <= end}
        if not page["Records"] or int(page["Records"][-1]["SequenceNumber"]) >= end:
            break
        iterator = page["NextShardIterator"]
    return covered


def test_poison_goes_to_the_failure_queue_and_every_record_is_accounted_for(kinesis_stack: Stack) -> None:
    stream, sink = kinesis_stack.outputs["stream_name"], kinesis_stack.outputs["sink_table_name"]
    queue_url = kinesis_stack.outputs["on_failure_queue_url"]
    race = 7
    messages: list[tuple[int, Any]] = []
    for second in (1, 2, 3, 4):
        messages.extend((racer, telemetry(racer, second, race=race)) for racer in range(1, 7))
        if second in (2, 3):  # poison mixed in, on two racers' own partitions
            messages.append((second, b"\xff not json"))
            messages.append((second + 2, {**telemetry(second + 2, second, race=race), "cadence": "fast"}))
    sent = put(stream, messages)
    poison = {e["SequenceNumber"] for e in sent if b"fast" in e["Data"] or e["Data"].startswith(b"\xff")}
    good = [e for e in sent if e["SequenceNumber"] not in poison]
    assert len(poison) == 4
    assert len(good) == 24

    failed: set[str] = set()
    infos: list[dict[str, Any]] = []

    def account() -> tuple[set[str], dict[tuple[str, str], dict[str, Any]]]:
        for info in _failure_ranges(queue_url):
            infos.append(info)
            failed.update(_records_in(info))
        standings = standings_in(client("dynamodb"), sink, race=race)
        return failed, standings

    def settled(state: tuple[set[str], dict[tuple[str, str], dict[str, Any]]]) -> bool:
        covered, standings = state
        applied = sum(entry["message_count"] for entry in standings.values())
        return poison <= covered and applied + len(covered - poison) == len(good)

    covered, standings = wait_for(account, settled, timeout=120, every=2)

    assert poison <= covered, "every poison record must reach the on-failure queue"
    assert all(info["requestContext"]["condition"] == "RetryAttemptsExhausted" for info in infos)
    assert all(info["requestContext"]["approximateInvokeCount"] == 4 for info in infos)  # 1 + 3 retries
    expected = expected_standings([as_event_record(e) for e in good if e["SequenceNumber"] not in covered])
    assert standings == expected, "the sink holds exactly the good records that did not go to the queue"
    applied = sum(entry["message_count"] for entry in standings.values())
    in_queue = len(covered - poison)
    assert applied + in_queue + len(poison) == len(sent), "records in = sink + queue: none lost, none doubled"


def test_handler_metrics_reach_the_log_group_as_emf(kinesis_stack: Stack) -> None:
    logs = client("logs")
    group = kinesis_stack.outputs["log_group_name"]
    put(kinesis_stack.outputs["stream_name"], [(1, telemetry(1, 1, race=99))])

    def emf_lines() -> list[dict[str, Any]]:
        events = logs.filter_log_events(logGroupName=group, filterPattern="_aws")["events"]
        return [json.loads(e["message"]) for e in events if e["message"].startswith("{")]

    def with_latency(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [line for line in lines if "ProcessingLatency" in line]

    lines = wait_for(lambda: with_latency(emf_lines()), bool)
    assert lines, "no EMF line with a processed record reached the log group"
    directive = lines[-1]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "StreamPipeline"
    assert directive["Dimensions"] == [["SourceType", "service"]]
    assert {m["Name"] for m in directive["Metrics"]} >= {"RecordsProcessed", "RecordsFailed", "ProcessingLatency"}
    assert lines[-1]["service"] == kinesis_stack.outputs["function_name"]


def test_smoke_race_every_record_is_accounted_for(kinesis_stack: Stack) -> None:
    """A quick size of the P5 benchmark (make bench runs 1,000 racers for 60 s): 200 racers, 20 s."""
    report = measure.drive(
        kinesis_stack.outputs, racers=200, seconds=20, race_id=4242, client=client, drain_timeout_s=120
    )
    assert report.records_in == 4000
    assert report.balanced, report.as_dict()
    assert report.in_failure_queue == 0
    assert report.latency_samples > 0
    assert report.invocations > 0, "no REPORT line: the consumer's busy time cannot be measured"
    assert 0 < report.invocation_seconds < report.invocations * 30  # each within the function's timeout


def test_the_deployed_dashboard_and_the_race_report_render_with_data(kinesis_stack: Stack, tmp_path: Path) -> None:
    """GetDashboard and GetMetricData from LocalStack, drawn to PNGs, after a little race of its own."""
    from stream_pipeline_ops import cli, render

    stream, sink = kinesis_stack.outputs["stream_name"], kinesis_stack.outputs["sink_table_name"]
    sent = put(stream, [(racer, telemetry(racer, 1, race=606)) for racer in range(1, 11)])
    expected = expected_standings([as_event_record(e) for e in sent])
    wait_for(
        lambda: standings_in(client("dynamodb"), sink, race=606),
        lambda s: s == expected,
    )

    def drawn_points() -> int:
        found = render.render(body, client, tmp_path / "dashboard.png", title=name, minutes=30)
        by_title = {w["title"]: w for w in found.widgets}
        return int(by_title[f"{fn}: records processed and failed (handler EMF)"]["points"])

    name, fn = kinesis_stack.outputs["dashboard_url"].rsplit("name=", 1)[-1], kinesis_stack.outputs["function_name"]
    body = json.loads(client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    wait_for(drawn_points, bool, timeout=30, every=3)  # the EMF bridge's PutMetricData lands within seconds
    drawn = render.render(body, client, tmp_path / "dashboard.png", title=name, minutes=30)
    assert len(drawn.widgets) == len(body["widgets"])
    by_title = {w["title"]: w for w in drawn.widgets}
    assert by_title[f"{fn}: invocations, errors, throttles"]["points"] > 0, "AWS/Lambda metrics LocalStack publishes"
    assert by_title[f"{fn}: records processed and failed (handler EMF)"]["points"] > 0, "EMF metrics through the bridge"
    assert (tmp_path / "dashboard.png").stat().st_size > 50_000

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(kinesis_stack.outputs))
    environment = {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with mock.patch.dict("os.environ", environment):
        code = cli.main(["report", "--outputs", str(outputs), "--minutes", "30", "--out", str(tmp_path / "race.png")])
    assert code == 0
    assert (tmp_path / "race.png").stat().st_size > 50_000


def test_a_race_of_kpl_aggregates_reaches_the_sink_whole(kinesis_stack: Stack) -> None:
    """`stream-pipeline load --aggregate`'s code (aws-kinesis-agg's aggregator, the real format) into
    the stack: far fewer Kinesis records than messages, and every user record in the standings."""
    import io

    from stream_pipeline_ops import load

    target = load.KinesisTarget(kinesis_stack.outputs["stream_name"], client=client("kinesis"), aggregate=True)
    summary = load.run(target, racers=40, seconds=3, race_id=7171, out=io.StringIO())
    assert (summary.acknowledged, summary.failed_after_retries) == (120, 0)
    assert summary.kinesis_records < 20, "the messages travelled in aggregates"
    standings = wait_for(
        lambda: standings_in(client("dynamodb"), kinesis_stack.outputs["sink_table_name"], race=7171),
        lambda s: len(s) == 40 and sum(int(v["message_count"]) for v in s.values()) == 120,
        timeout=90,
    )
    assert {int(v["last_second"]) for v in standings.values()} == {3}
