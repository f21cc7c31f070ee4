"""The doctor on a consumer that has stopped reading: an Enabled mapping with EventCount metrics
and no PolledEventCount datapoint in the last 5 minutes (AWS emits 0 for an empty poll, and
nothing at all when the mapping does not poll), with the causes the doctor can check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doctor_fakes import FN, HEALTHY, NOW, POLLING, ROLE, STREAM_ARN, aws, error, mapping, only, run, serious, summary
from stream_pipeline_ops import doctor

STOPPED = "the consumer has stopped reading: records will expire unseen at the end of the retention"
CONSUMER_ARN = f"{STREAM_ARN}/consumer/alleycat-efo:1763856000"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1f0c2b8e-5d3a-4b7e-9c61-2a4d8e0f7b13"


def test_a_mapping_that_polls_empty_is_healthy() -> None:
    assert run(metrics={"PolledEventCount": [(3, 0.0), (4, 0.0)]}).findings == []


def test_no_polled_event_count_for_five_minutes_is_critical_with_the_evidence() -> None:
    report = run(metrics={"PolledEventCount": [(ago, 120.0) for ago in range(6, 30)]})
    assert serious(report) == [("critical", STOPPED)]
    finding = only(report, STOPPED)
    assert finding.evidence == (
        "PolledEventCount (EventSourceMappingUUID=6d9a3b1e): no datapoint since 11:55 UTC, the last at 11:54 UTC; "
        "State=Enabled, LastProcessingResult=OK, StateTransitionReason=USER_INITIATED"
    )
    assert (
        f"simulate-principal-policy --policy-source-arn {ROLE} --action-names kinesis:DescribeStream "
        "kinesis:DescribeStreamSummary kinesis:GetRecords kinesis:GetShardIterator kinesis:ListShards "
        f"--resource-arns {STREAM_ARN}"
    ) in finding.fix
    assert "update-event-source-mapping --uuid 6d9a3b1e --no-enabled, then --enabled" in finding.fix
    assert report.exit_code == 2


def test_no_datapoint_in_the_whole_window() -> None:
    report = run(metrics={"PolledEventCount": []})
    assert "no datapoint since 11:55 UTC, none in the last 60 min" in only(report, STOPPED).evidence


def test_a_deleted_enhanced_fan_out_consumer_is_named() -> None:
    report = run(
        {
            **mapping(EventSourceArn=CONSUMER_ARN, LastProcessingResult="PROBLEM: Function call failed"),
            ("kinesis", "describe_stream_consumer"): error("ResourceNotFoundException", "DescribeStreamConsumer"),
        },
        {"PolledEventCount": []},
    )
    finding = only(report, STOPPED)
    assert finding.evidence.endswith(
        "LastProcessingResult=PROBLEM: Function call failed, StateTransitionReason=USER_INITIATED; "
        f"the enhanced fan-out consumer {CONSUMER_ARN} no longer exists (DescribeStreamConsumer)"
    )
    assert finding.fix.startswith("the consumer was deleted: re-apply the module")
    assert "kinesis:DescribeStreamConsumer kinesis:SubscribeToShard" in finding.fix
    assert f"--resource-arns {STREAM_ARN}" in finding.fix


def test_a_consumer_being_deleted_shows_its_status() -> None:
    consumer = {"ConsumerDescription": {"ConsumerARN": CONSUMER_ARN, "ConsumerStatus": "DELETING"}}
    report = run(
        {**mapping(EventSourceArn=CONSUMER_ARN), ("kinesis", "describe_stream_consumer"): consumer},
        {"PolledEventCount": []},
    )
    assert only(report, STOPPED).evidence.endswith("; ConsumerStatus=DELETING")


def test_a_disabled_stream_key_is_named_with_the_command_to_enable_it() -> None:
    report = run(
        {
            **summary(EncryptionType="KMS", KeyId=KEY),
            ("kms", "describe_key"): {"KeyMetadata": {"KeyId": KEY, "KeyState": "Disabled", "Enabled": False}},
        },
        {"PolledEventCount": []},
    )
    finding = only(report, STOPPED)
    assert finding.evidence.endswith(f"; the stream's KMS key {KEY} is Disabled")
    assert f"enable the stream's KMS key (aws kms enable-key --key-id {KEY})" in finding.fix
    assert f"the role {ROLE} needs kms:Decrypt on the stream's key {KEY}" in finding.fix


def test_an_enabled_key_is_still_named_for_the_role_to_decrypt() -> None:
    report = run(
        {
            **summary(EncryptionType="KMS", KeyId=KEY),
            ("kms", "describe_key"): {"KeyMetadata": {"KeyId": KEY, "KeyState": "Enabled"}},
        },
        {"PolledEventCount": []},
    )
    finding = only(report, STOPPED)
    assert finding.evidence.endswith(f"; the stream's KMS key {KEY} is Enabled")
    assert "aws kms enable-key" not in finding.fix
    assert "needs kms:Decrypt" in finding.fix


def test_the_aws_managed_stream_key_is_not_a_cause() -> None:
    fake = aws(summary(EncryptionType="KMS", KeyId="alias/aws/kinesis"), {"PolledEventCount": []})
    finding = only(doctor.diagnose(fake, FN, now=NOW), STOPPED)
    assert "KMS" not in finding.evidence
    assert "kms:Decrypt" not in finding.fix
    assert fake.calls[("kms", "describe_key")] == 0


def test_a_mapping_just_enabled_is_given_time() -> None:
    report = run(mapping(LastModified=NOW - timedelta(minutes=2)), {"PolledEventCount": []})
    assert report.findings == []


def test_a_disabled_mapping_is_not_also_stopped() -> None:
    report = run(mapping(State="Disabled"), {"PolledEventCount": []})
    assert serious(report) == [("critical", "the event source mapping is Disabled: nothing is being processed")]


@pytest.mark.parametrize("config", [{}, {"Metrics": []}])
def test_without_event_count_metrics_a_stop_cannot_be_seen(config: dict[str, list[str]]) -> None:
    report = run(mapping(MetricsConfig=config), {"PolledEventCount": []})
    title = "a consumer that stops reading cannot be seen: the mapping publishes no EventCount metrics"
    finding = only(report, title)
    assert finding.severity == 0
    assert report.exit_code == 0
    assert "event_source_mapping.metrics = true" in finding.fix
    assert "--metrics-config Metrics=EventCount" in finding.fix


def test_a_window_shorter_than_five_minutes_cannot_tell() -> None:
    assert run(metrics={"PolledEventCount": []}, minutes=3).findings == []


def test_a_dynamodb_source_names_its_read_permissions() -> None:
    ddb = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"
    answers = {
        **mapping(EventSourceArn=ddb, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::orders-f"}}),
        ("dynamodbstreams", "describe_stream"): {"StreamDescription": {"StreamStatus": "ENABLED"}},
        ("s3", "list_objects_v2"): {"KeyCount": 0},
    }
    finding = only(run(answers, {"PolledEventCount": []}), STOPPED)
    assert "--action-names dynamodb:DescribeStream dynamodb:GetRecords dynamodb:GetShardIterator" in finding.fix


def test_the_doctor_reads_its_own_functions_mapping_not_a_namesakes() -> None:
    """LocalStack 2026.3 answers ListEventSourceMappings(FunctionName=alleycat) with the mappings of
    every function whose name starts with it: a disabled `alleycat-archive` mapping listed first must
    not be taken for alleycat's (it was: "the event source mapping is Disabled" with its UUID)."""
    ours = HEALTHY[("lambda", "list_event_source_mappings")]["EventSourceMappings"][0]
    theirs = {**ours, "UUID": "0b7c1d2e", "State": "Disabled",
              "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:alleycat-archive"}  # fmt: skip
    ours = {**ours, "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:alleycat"}
    report = run({("lambda", "list_event_source_mappings"): {"EventSourceMappings": [theirs, ours]}}, POLLING)
    assert serious(report) == []
