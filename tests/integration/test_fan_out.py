"""examples/kinesis-fan-out on LocalStack: two consumers of one stream, the leaderboard on the shared
read budget and the archive through a registered enhanced fan-out consumer (LocalStack's mappings
read through one: measured), each counted on its own.

LocalStack matches metric dimensions with SQL LIKE '%Name=Value%' (cloudwatch_database_helper), so
on LocalStack the leaderboard's metrics and alarms (service/FunctionName `it-fanout`) also count the
archive's (`it-fanout-archive`); AWS matches them exactly. The test therefore breaks the leaderboard
and checks that the archive's alarms, which see only the archive, stay quiet.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from stack_support import Stack, client, operator_json, outputs_file, put, queue_depth, wait_for
from support import expected_standings, standings_in, telemetry

if TYPE_CHECKING:
    from pathlib import Path


def archived(table: str, keys: set[str]) -> int:
    """The archive's items for these partition keys."""
    dynamodb, found = client("dynamodb"), 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        found += sum(1 for item in page["Items"] if item["pk"]["S"].removeprefix("archive#") in keys)
    return found


def queued(url: str) -> int:
    return sum(queue_depth(url))


def state(alarm: str) -> str:
    (found,) = client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    return str(found["StateValue"])


def test_both_consumers_get_every_record_and_a_poison_record_fails_only_the_leaderboard(
    fanout_stack: Stack, tmp_path: Path
) -> None:
    outputs = fanout_stack.outputs
    leaderboard, archive = outputs["consumers"]["default"], outputs["consumers"]["archive"]
    assert archive["event_source_arn"].startswith(f"{outputs['stream_arn']}/consumer/"), "the archive reads through EFO"
    assert leaderboard["event_source_arn"] == outputs["stream_arn"]

    racers = [f"fan-{n}" for n in range(1, 11)]
    messages = [(racer, telemetry(n, second, race=808)) for second in (1, 2, 3) for n, racer in enumerate(racers, 1)]
    sent = put(outputs["stream_name"], [*messages, ("fan-poison", b"\x00 not JSON")])
    expected = expected_standings([{"kinesis": {"data": base64.b64encode(e["Data"]).decode()}} for e in sent[:-1]])

    # In = out, for each consumer: every racer's standing from the leaderboard, every record in the archive.
    standings = wait_for(lambda: standings_in(client("dynamodb"), leaderboard["sink_table_name"], race=808),
                         lambda s: s == expected, timeout=90)  # fmt: skip
    assert sum(int(s["message_count"]) for s in standings.values()) == len(messages)
    assert wait_for(lambda: archived(archive["sink_table_name"], {*racers, "fan-poison"}), lambda n: n == len(sent),
                    timeout=90) == len(sent)  # fmt: skip

    # The record the leaderboard cannot parse is in its failure path, and in nobody else's.
    wait_for(lambda: queued(leaderboard["on_failure_queue_url"]), lambda n: n >= 1, timeout=120)
    (message,) = client("sqs").receive_message(QueueUrl=leaderboard["on_failure_queue_url"], VisibilityTimeout=0)[
        "Messages"
    ]
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["startSequenceNumber"] <= sent[-1]["SequenceNumber"] <= info["endSequenceNumber"]
    assert queued(archive["on_failure_queue_url"]) == 0

    # Each consumer's alarms, on their own: the leaderboard's failure path alarm fires, the archive's stays quiet.
    name = outputs["stream_pipeline"]["name"]
    wait_for(lambda: state(f"{name}-on-failure-delivered"), lambda s: s == "ALARM", timeout=90, every=5)
    for alarm in ("on-failure-delivered", "records-failed", "on-failure-queue", "dropped-events"):
        assert state(f"{name}-archive-{alarm}") != "ALARM", alarm

    # The doctor checks both consumers and puts the waiting failure on the leaderboard alone.
    _, report = operator_json("doctor", outputs_file(fanout_stack, tmp_path))
    assert report["consumers"] == {"default": leaderboard["function_name"], "archive": archive["function_name"]}
    waiting = {f["area"] for f in report["findings"] if f["area"].endswith("failure path")}
    assert waiting == {"default: failure path"}, report["findings"]
