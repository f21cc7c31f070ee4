"""examples/bring-your-own on LocalStack: a team's root that declares its own pager topic, keys,
VPC, permissions boundary and operator role beside the module, passes them by reference, and
consumes the stream of another stack (the tier's fan-out stack, by ARN) through an enhanced fan-out
consumer registered on it. Applied by the tier's `stacks` fixture as soon as that stream exists.

Records put into the first stack's stream reach the second stack's sink; the second stack created
nothing of the stream; what the account mandates is on the function and the role as applied. The
records are race telemetry of a race of their own, which the first stack's leaderboard accepts, so
its failure path and the races its tests read stay as they were.
"""

from __future__ import annotations

import json
import sys
import time

from stack_support import Stack, client, put, wait_for
from support import telemetry


def archived(table: str, keys: set[str]) -> int:
    """The archive processor's items for these partition keys."""
    dynamodb, found = client("dynamodb"), 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        found += sum(1 for item in page["Items"] if item["pk"]["S"].removeprefix("archive#") in keys)
    return found


def test_a_second_stack_consumes_the_stream_of_the_first(fanout_stack: Stack, byo: Stack) -> None:
    first, second = fanout_stack.outputs, byo.outputs
    assert second["stream_arn"] == first["stream_arn"]
    consumer = second["consumers"]["default"]
    assert consumer["event_source_arn"].startswith(f"{first['stream_arn']}/consumer/"), "registered on the stream"
    assert [s for s in client("kinesis").list_streams()["StreamNames"] if s.startswith(byo.name)] == []

    started = time.monotonic()
    racers = {f"byo-{n}": n for n in range(1, 13)}
    keys = set(racers)
    messages = [(key, telemetry(n, second, race=2222)) for second in (1, 2, 3) for key, n in racers.items()]
    sent = put(first["stream_name"], messages)
    count = wait_for(lambda: archived(second["sink_table_name"], keys), lambda n: n >= len(sent), timeout=120)
    assert count == len(sent), f"{count} of {len(sent)} records put into {first['stream_name']} reached {byo.name}"
    took = time.monotonic() - started
    sys.stdout.write(f"\n{len(sent)} records from {first['stream_name']} in {byo.name}'s sink after {took:.0f} s\n")


def test_the_mandates_are_on_the_function_and_the_role_as_applied(byo: Stack) -> None:
    outputs = byo.outputs
    function = client("lambda").get_function_configuration(FunctionName=outputs["function_name"])
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["Architectures"] == ["arm64"]
    assert function["VpcConfig"]["SubnetIds"]
    assert function["VpcConfig"]["SecurityGroupIds"]
    role = client("iam").get_role(RoleName=outputs["role_name"])["Role"]
    assert role["Path"] == "/stream-pipeline/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(f":policy/{byo.name}-boundary")
    document = client("iam").get_role_policy(
        RoleName=outputs["role_name"], PolicyName=f"{outputs['function_name']}-pipeline"
    )["PolicyDocument"]
    policy = json.loads(document) if isinstance(document, str) else document
    sids = {statement["Sid"] for statement in policy["Statement"]}
    assert {"CreateNetworkInterfacesInTheseSubnets", "UseTheArchiveKey", "SubscribeThroughThisConsumer"} <= sids

    s3 = client("s3")
    bucket = outputs["on_failure_bucket_name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    alarms = client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{byo.name}-record-age")["MetricAlarms"]
    assert [a["AlarmActions"] for a in alarms] == [[outputs["sns_topic_arn"]]], "the alarms page the team's topic"
