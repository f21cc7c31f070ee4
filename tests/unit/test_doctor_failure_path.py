"""The doctor on the failure path: the age of the oldest failure must survive an operator's look.

SQS's ApproximateAgeOfOldestMessage skips a message received three times, so after a few redrive
dry runs it points at the second-oldest. The age is the largest of the metric, the redrive
ledger's oldest open failure entry (a real Query, on moto) and how long the queue has held
messages without a break; the evidence names the source. An archive's age is its oldest object.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from doctor_fakes import FN, LEDGER, NOW, error, mapping, only, queue, run, serious
from support import create_sink_table

if TYPE_CHECKING:
    from collections.abc import Iterator

WAITING = "3 failed batch(es) wait in the on-failure queue"
CLOSING = f"{WAITING}: the replay window is closing"
QUERY = ("dynamodb", "query")
SHORT_WINDOW = mapping(MaximumRecordAgeInSeconds=82_800)  # 24 h retention - 23 h: replay window 3,600 s


@pytest.fixture
def ledger() -> Iterator[Any]:
    """The redrive ledger as the module creates it (pk/sk strings), on moto."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"])
        create_sink_table(client, LEDGER)
        yield client


def failure_entry(
    client: Any, message_id: str, failed_at: datetime | None, *, status: str = "open", function: str = FN
) -> None:
    """A failure entry as INTERFACES.md section 2 lays it out (the MAC's bytes are not checked here)."""
    item: dict[str, Any] = {
        "pk": {"S": f"FAILURE#{function}"},
        "sk": {"S": message_id},
        "status": {"S": status},
        "first_seen": {"S": NOW.isoformat()},
        "shard": {"S": "shardId-000000000000"},
        "start_sequence": {"S": "49590338271490256608559692538361571095921575989136588898"},
        "end_sequence": {"S": "49590338271490256608559692540925702759324208523137515618"},
        "batch_size": {"N": "3"},
        "mac": {"B": b"\x00" * 32},
    }
    if failed_at is not None:
        item["failed_at"] = {"S": failed_at.isoformat()}
        item["sent_at"] = {"S": (failed_at + timedelta(seconds=1)).isoformat()}
    client.put_item(TableName=LEDGER, Item=item)


def test_the_metric_alone_as_before() -> None:
    report = run(queue(2, 1), {"ApproximateAgeOfOldestMessage": [60.0]})
    assert serious(report) == [("warning", WAITING)]
    assert only(report, WAITING).evidence == (
        "alleycat-failures: 3 message(s) (1 in flight), oldest 60 s by ApproximateAgeOfOldestMessage "
        "(ApproximateAgeOfOldestMessage 60 s); records are sure to stay in the stream 43,200 s after they fail"
    )
    assert "stream-pipeline redrive" in only(report, WAITING).fix


def test_a_closing_replay_window_from_the_metric() -> None:
    closing = run(queue(2, 1), {"ApproximateAgeOfOldestMessage": [30_000.0]})  # over half of 24 h - 12 h
    assert serious(closing) == [("critical", CLOSING)]


def test_the_ledger_keeps_the_age_of_a_failure_the_metric_no_longer_sees(ledger: Any) -> None:
    """Three dry runs later the metric shows the second-oldest message (60 s); the ledger still has
    the oldest failure, 9 hours old: past half the 12-hour replay window."""
    failure_entry(ledger, "m-oldest", NOW - timedelta(hours=9))
    failure_entry(ledger, "m-newer", NOW - timedelta(minutes=1))
    failure_entry(ledger, "m-closed", NOW - timedelta(hours=20), status="closed")
    failure_entry(ledger, "m-other", NOW - timedelta(hours=22), function="another-function")
    report = run(queue(2, 1), {"ApproximateAgeOfOldestMessage": [60.0]}, real={QUERY: ledger})
    assert serious(report) == [("critical", CLOSING)]
    assert only(report, CLOSING).evidence == (
        "alleycat-failures: 3 message(s) (1 in flight), oldest 32,400 s by the redrive ledger "
        "(ApproximateAgeOfOldestMessage 60 s, the redrive ledger's oldest of 2 open failure(s) failed at "
        "2026-11-23 03:00 UTC); records are sure to stay in the stream 43,200 s after they fail"
    )


def test_the_ledger_named_by_the_outputs_is_the_one_read(ledger: Any) -> None:
    other = "pipeline-7-redrive-ledger"
    create_sink_table(ledger, other)
    item = {"pk": {"S": f"FAILURE#{FN}"}, "sk": {"S": "m1"}, "status": {"S": "open"}}
    ledger.put_item(TableName=other, Item={**item, "sent_at": {"S": (NOW - timedelta(hours=1)).isoformat()}})
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{other}"
    report = run(queue(1), real={QUERY: ledger}, ledger_table=arn)
    assert "oldest 3,600 s by the redrive ledger" in report.findings[0].evidence


def test_an_entry_without_a_readable_time_is_counted_not_fatal(ledger: Any) -> None:
    failure_entry(ledger, "m-1", NOW - timedelta(minutes=30))
    ledger.put_item(
        TableName=LEDGER,
        Item={"pk": {"S": f"FAILURE#{FN}"}, "sk": {"S": "m-2"}, "status": {"S": "open"}, "failed_at": {"S": "soon"}},
    )
    report = run(queue(1), real={QUERY: ledger})
    assert "oldest of 1 open failure(s) failed at 2026-11-23 11:30 UTC; 1 without a readable failed_at" in (
        report.findings[0].evidence
    )


def test_no_ledger_is_an_info_finding_and_the_metric_still_counts() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")  # no table at all
        report = run(queue(1), {"ApproximateAgeOfOldestMessage": [90.0]}, real={QUERY: client})
    title = "there is no redrive ledger: the age of a failure someone has looked at may be under-reported"
    assert only(report, title).severity == 0
    assert only(report, title).evidence == f"{LEDGER}: ResourceNotFoundException"
    assert serious(report) == [("warning", "1 failed batch(es) wait in the on-failure queue")]


def test_a_ledger_the_doctor_may_not_read_is_a_warning_that_says_what_to_grant() -> None:
    report = run({**queue(1), ("dynamodb", "query"): error("AccessDeniedException", "Query")})
    finding = only(report, f"could not read the redrive ledger {LEDGER}")
    assert finding.severity == 1
    assert "grant dynamodb:Query" in finding.fix


def test_the_queue_held_messages_for_longer_than_the_metric_says() -> None:
    """Messages every minute for the last 40 (some in flight only), after an empty minute: the
    oldest has waited at least since then, past half a 3,600 s replay window."""
    visible = [(ago, 1.0 if ago % 7 else 0.0) for ago in range(1, 41)] + [(41, 0.0), (42, 2.0)]
    in_flight = [(ago, 1.0) for ago in range(7, 41, 7)]
    report = run(
        {**SHORT_WINDOW, **queue(2, 1)},
        {
            "ApproximateAgeOfOldestMessage": [60.0],
            "ApproximateNumberOfMessagesVisible": visible,
            "ApproximateNumberOfMessagesNotVisible": in_flight,
        },
    )
    assert serious(report) == [("critical", CLOSING)]
    assert only(report, CLOSING).evidence == (
        "alleycat-failures: 3 message(s) (1 in flight), oldest 2,430 s by the queue's depth "
        "(ApproximateAgeOfOldestMessage 60 s, messages held without a break since 11:20 UTC); "
        "records are sure to stay in the stream 3,600 s after they fail"
    )


def test_a_queue_that_emptied_in_between_counts_from_its_last_empty_minute() -> None:
    visible = [(ago, 1.0) for ago in range(1, 11)] + [(11, 0.0)] + [(ago, 3.0) for ago in range(12, 60)]
    report = run({**SHORT_WINDOW, **queue(1)}, {"ApproximateNumberOfMessagesVisible": visible})
    finding = only(report, "1 failed batch(es) wait in the on-failure queue")
    assert "oldest 630 s by the queue's depth (messages held without a break since 11:50 UTC)" in finding.evidence


def test_a_queue_full_for_the_whole_window_says_so() -> None:
    report = run(queue(1), {"ApproximateNumberOfMessagesVisible": [1.0] * 60})
    assert "messages held without a break for the whole window, since 11:00 UTC" in report.findings[0].evidence


def test_waiting_messages_with_no_age_published_yet() -> None:
    report = run(queue(1))
    assert report.findings[0].evidence == (
        "alleycat-failures: 1 message(s), the oldest's age is not published yet; "
        "records are sure to stay in the stream 43,200 s after they fail"
    )


# ------------------------------------------------------------------ the archive
ARCHIVE = mapping(DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::alleycat-failures-x"}})
EXPIRE_90 = {
    ("s3", "get_bucket_lifecycle_configuration"): {
        "Rules": [
            {"ID": "expire-archived-failures", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 90}},
            {
                "ID": "tagged",
                "Status": "Enabled",
                "Filter": {"Tag": {"Key": "k", "Value": "v"}},
                "Expiration": {"Days": 1},
            },
        ]
    }
}


def listed(*ages_days: float) -> dict[tuple[str, str], Any]:
    contents = [
        {"Key": f"aws/lambda/{i}", "LastModified": NOW - timedelta(days=age)} for i, age in enumerate(ages_days)
    ]
    return {("s3", "list_objects_v2"): {"KeyCount": len(contents), "Contents": contents, "IsTruncated": False}}


def test_failures_in_the_archive_with_the_oldest_objects_age() -> None:
    report = run({**ARCHIVE, **EXPIRE_90, **listed(0.5, 2)})
    title = "2 failed batch(es) wait in the failure archive"
    assert serious(report) == [("warning", title)]
    assert only(report, title).evidence == (
        "s3://alleycat-failures-x/aws/lambda/: 2 object(s), each with its records, oldest 172,800 s "
        "(LastModified 2026-11-21 12:00 UTC); the bucket expires them 90 day(s) (7,776,000 s) after they fail"
    )
    assert "stream-pipeline redrive" in only(report, title).fix


def test_an_archive_past_half_its_expiry_is_critical() -> None:
    report = run({**ARCHIVE, **EXPIRE_90, **listed(50, 1)})
    assert serious(report) == [("critical", "2 failed batch(es) wait in the failure archive: the oldest expire soon")]


def test_an_archive_without_a_lifecycle_keeps_them() -> None:
    no_rules = {("s3", "get_bucket_lifecycle_configuration"): error("NoSuchLifecycleConfiguration", "Get")}
    report = run({**ARCHIVE, **no_rules, **listed(400)})
    assert serious(report) == [("warning", "1 failed batch(es) wait in the failure archive")]
    assert report.findings[0].evidence.endswith("; the bucket keeps them until deleted")


def test_an_archive_is_listed_to_its_end() -> None:
    first = {
        "KeyCount": 1,
        "Contents": [{"Key": "aws/lambda/new", "LastModified": NOW - timedelta(hours=1)}],
        "IsTruncated": True,
        "NextContinuationToken": "t1",
    }
    last = {"KeyCount": 1, "Contents": [{"Key": "aws/lambda/old", "LastModified": NOW - timedelta(days=60)}]}

    def pages(**kwargs: Any) -> dict[str, Any]:
        return last if kwargs.get("ContinuationToken") == "t1" else first

    report = run({**ARCHIVE, **EXPIRE_90, ("s3", "list_objects_v2"): pages})
    assert serious(report) == [("critical", "2 failed batch(es) wait in the failure archive: the oldest expire soon")]
    assert "oldest 5,184,000 s (LastModified 2026-09-24 12:00 UTC)" in report.findings[0].evidence


def test_an_empty_archive_has_no_finding_and_reads_no_lifecycle() -> None:
    report = run({**ARCHIVE, **listed(), ("s3", "get_bucket_lifecycle_configuration"): error("AccessDenied", "x")})
    assert report.findings == []
    assert "failure path" in report.checked


def test_naive_and_aware_times_compare() -> None:
    """boto3 gives aware datetimes; a ledger written without a zone is read as UTC."""
    from stream_pipeline_ops.doctor.failure_path import parse_time

    assert parse_time({"S": "2026-11-23T03:00:00"}) == datetime(2026, 11, 23, 3, tzinfo=UTC)
    assert parse_time({"S": "2026-11-23T03:00:00Z"}) == datetime(2026, 11, 23, 3, tzinfo=UTC)
    assert parse_time({"N": "1"}) is None


def test_a_second_consumers_function_finds_the_pipelines_ledger_by_its_pipeline_name(ledger: Any) -> None:
    """Without outputs, the ledger is named after the pipeline (PIPELINE_NAME), not after the function:
    a consumer other than the default has a service name of its own (alleycat-archive)."""
    failure_entry(ledger, "m-oldest", NOW - timedelta(hours=9))
    function = {
        "FunctionName": FN,
        "State": "Active",
        "Timeout": 30,
        "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "alleycat-archive", "PIPELINE_NAME": "alleycat"}},
    }
    answers = {("lambda", "get_function_configuration"): function, **queue(2, 1)}
    report = run(answers, {"ApproximateAgeOfOldestMessage": [60.0]}, real={QUERY: ledger})
    assert "oldest 32,400 s by the redrive ledger" in only(report, CLOSING).evidence
