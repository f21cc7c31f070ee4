"""Doctor drills on LocalStack: one fault on the live stack gives exactly its finding, and the
healthy stack gives none. The doctor reads the stack through the same AWS APIs as in a real
account, here LocalStack's.

What LocalStack publishes (read in its source, and seen here): ApproximateNumberOfMessagesVisible
and NotVisible every SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL seconds, but not
ApproximateAgeOfOldestMessage, and no event source mapping metrics. Without PolledEventCount an
Enabled mapping with EventCount metrics looks stopped to the doctor, as it would in AWS; so until
a bridge publishes the mapping's metrics from LocalStack's poller, that one finding is expected
and set aside (``STOPPED``), and the drill for it is skipped, saying why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from stack_support import Stack, client, wait_for
from stream_pipeline_ops import doctor
from support import create_sink_table

if TYPE_CHECKING:
    from collections.abc import Iterator

STOPPED = "the consumer has stopped reading: records will expire unseen at the end of the retention"
ONE_WAITING = "1 failed batch(es) wait in the on-failure queue"
MINUTES = 10


def diagnose(stack: Stack, minutes: int = MINUTES, **options: Any) -> doctor.Report:
    return doctor.diagnose(
        client, stack.outputs["function_name"], stack.outputs["sns_topic_arn"], minutes=minutes, **options
    )


def the_mapping(stack: Stack) -> dict[str, Any]:
    (found,) = client("lambda").list_event_source_mappings(FunctionName=stack.outputs["function_name"])[
        "EventSourceMappings"
    ]
    mapping: dict[str, Any] = found
    return mapping


def polled(stack: Stack) -> bool:
    """Whether anything publishes the mapping's PolledEventCount here (AWS does; LocalStack alone does not)."""
    end = datetime.now(tz=UTC)
    found = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="PolledEventCount",
        Dimensions=[{"Name": "EventSourceMappingUUID", "Value": the_mapping(stack)["UUID"]}],
        StartTime=end - timedelta(minutes=MINUTES),
        EndTime=end,
        Period=60,
        Statistics=["Sum"],
    )
    return bool(found["Datapoints"])


def serious(stack: Stack, minutes: int = MINUTES) -> set[str]:
    titles = {f.title for f in diagnose(stack, minutes).findings if f.severity > doctor.Severity.INFO}
    if not polled(stack):
        titles.discard(STOPPED)  # no PolledEventCount at all: LocalStack's limit, not a fault (module doc)
    return titles


@pytest.fixture
def someone_listens(kinesis_stack: Stack) -> Iterator[None]:
    """A confirmed subscription (an SQS queue), as a paged team would have."""
    sqs, sns = client("sqs"), client("sns")
    inbox = sqs.create_queue(QueueName="it-alleycat-doctor-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=kinesis_stack.outputs["sns_topic_arn"], Protocol="sqs", Endpoint=arn)
    yield
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    sqs.delete_queue(QueueUrl=inbox)


@pytest.fixture
def one_failure(kinesis_stack: Stack) -> Iterator[str]:
    """One invocation record in the on-failure queue, shaped as Lambda sends it; its MessageId."""
    sqs = client("sqs")
    queue = kinesis_stack.outputs["on_failure_queue_url"]
    failure = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "KinesisBatchInfo": {"shardId": "shardId-0"}}
    sent = sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(failure))
    yield str(sent["MessageId"])
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    ):  # deleted one by one: SQS takes one PurgeQueue a minute
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def test_a_healthy_stack_has_no_finding(kinesis_stack: Stack, someone_listens: None) -> None:
    assert serious(kinesis_stack) == set()


def test_a_topic_nobody_confirmed_is_the_missing_alerts_row(kinesis_stack: Stack) -> None:
    assert serious(kinesis_stack) == {'nobody receives the alarms (the workshop\'s "missing alerts")'}


def test_a_disabled_mapping(kinesis_stack: Stack, someone_listens: None) -> None:
    lam = client("lambda")
    uuid = the_mapping(kinesis_stack)["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    try:
        wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"], lambda s: s == "Disabled")
        assert serious(kinesis_stack) == {"the event source mapping is Disabled: nothing is being processed"}
    finally:
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"], lambda s: s == "Enabled")


def test_reserved_concurrency_below_shards_times_parallelization(kinesis_stack: Stack, someone_listens: None) -> None:
    lam = client("lambda")
    name = kinesis_stack.outputs["function_name"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)  # the example needs 2 x 2
    try:
        assert serious(kinesis_stack) == {"reserved concurrency is below what the stream needs: it throttles itself"}
    finally:
        lam.delete_function_concurrency(FunctionName=name)  # as applied: no reservation


def test_an_unreserved_consumer_the_accounts_other_functions_can_starve(
    kinesis_stack: Stack, someone_listens: None
) -> None:
    """No reservation, and the account's peak in use (a synthetic AWS/Lambda ConcurrentExecutions,
    no dimension, as AWS publishes it for the account) leaves 2 of the 4 batches the stream needs."""
    lam = client("lambda")
    name = kinesis_stack.outputs["function_name"]
    lam.delete_function_concurrency(FunctionName=name)
    try:
        unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
        # The peak 11 minutes ago: this test reads 13 minutes back and sees it; the doctor tests after
        # it read MINUTES (10) back and do not, as if the account's busy hour had passed.
        at = datetime.now(tz=UTC).replace(second=0, microsecond=0) - timedelta(minutes=11)
        busy = {"MetricName": "ConcurrentExecutions", "Value": float(unreserved - 2), "Unit": "Count", "Timestamp": at}
        client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[busy])
        starved = "the consumer has no reserved concurrency and the account's other functions can starve it"
        assert wait_for(lambda: serious(kinesis_stack, 13), lambda titles: starved in titles, timeout=30) == {starved}
        assert starved not in serious(kinesis_stack), "the later tests' window does not hold the peak"
        (finding,) = [f for f in diagnose(kinesis_stack, 13).findings if f.title == starved]
        assert f"UnreservedConcurrentExecutions={unreserved:,} " in finding.evidence
        assert finding.evidence.endswith("leaves 2 < 2 shard(s) x parallelization factor 2 = 4")
        assert "(ConcurrentExecutions, all functions, last 13 min)" in finding.evidence
        assert f"--function-name {name} --reserved-concurrent-executions 4" in finding.fix
    finally:
        lam.delete_function_concurrency(FunctionName=name)  # as applied: no reservation


def test_records_in_the_failure_path(kinesis_stack: Stack, someone_listens: None, one_failure: str) -> None:
    assert serious(kinesis_stack) == {ONE_WAITING}


def test_the_queues_depth_gives_an_age_where_localstack_publishes_no_age_metric(
    kinesis_stack: Stack, someone_listens: None, one_failure: str
) -> None:
    """LocalStack publishes the queue's depth every few seconds, never ApproximateAgeOfOldestMessage:
    the age the doctor reports comes from the depth, read through GetMetricData."""

    def evidence() -> str:
        return next(f.evidence for f in diagnose(kinesis_stack).findings if f.title == ONE_WAITING)

    seen = wait_for(evidence, lambda text: "by the queue's depth" in text, timeout=90, every=5)
    assert "by the queue's depth (messages held without a break since" in seen


@pytest.fixture
def ledger(kinesis_stack: Stack) -> Iterator[str]:
    """The stack's redrive ledger, found by the doctor's convention (the function's
    POWERTOOLS_SERVICE_NAME + "-redrive-ledger"); made here, and removed after, when the stack has
    none yet."""
    dynamodb = client("dynamodb")
    function = client("lambda").get_function_configuration(FunctionName=kinesis_stack.outputs["function_name"])
    table = f"{function['Environment']['Variables']['POWERTOOLS_SERVICE_NAME']}-redrive-ledger"
    made_here = table not in dynamodb.list_tables()["TableNames"]
    if made_here:
        create_sink_table(dynamodb, table)
    yield table
    if made_here:
        dynamodb.delete_table(TableName=table)


def test_the_ledger_keeps_the_age_of_a_failure_redrive_has_looked_at(
    kinesis_stack: Stack, someone_listens: None, one_failure: str, ledger: str
) -> None:
    """An open failure entry, as redrive writes it the first time it reads a failure, says the
    message failed 7 hours ago: past half the 12-hour replay window, whatever the queue's metrics
    say after the dry runs received it."""
    dynamodb = client("dynamodb")
    function = kinesis_stack.outputs["function_name"]
    failed_at = datetime.now(tz=UTC) - timedelta(hours=7)
    key = {"pk": {"S": f"FAILURE#{function}"}, "sk": {"S": one_failure}}
    dynamodb.put_item(
        TableName=ledger,
        Item={
            **key,
            "status": {"S": "open"},
            "failed_at": {"S": failed_at.isoformat()},
            "sent_at": {"S": failed_at.isoformat()},
            "first_seen": {"S": datetime.now(tz=UTC).isoformat()},
            "shard": {"S": "shardId-000000000000"},
            "batch_size": {"N": "1"},
            # The doctor does not verify MACs (an entry can only raise the age it reports); these
            # bytes stand in for kms:GenerateMac's.
            "mac": {"B": b"\x00" * 32},
        },
    )
    try:
        report = diagnose(kinesis_stack)
        (finding,) = [f for f in report.findings if f.title.startswith(ONE_WAITING)]
        assert finding.title == f"{ONE_WAITING}: the replay window is closing"
        assert finding.severity == doctor.Severity.CRITICAL
        assert "by the redrive ledger" in finding.evidence
        assert f"failed at {failed_at:%Y-%m-%d %H:%M} UTC" in finding.evidence
    finally:
        dynamodb.delete_item(TableName=ledger, Key=key)


def test_a_consumer_that_stopped_reading(kinesis_stack: Stack, someone_listens: None) -> None:
    """With the mapping's PolledEventCount published, the healthy mapping is not stopped; seen from
    ten minutes on, with nothing published in between, it is."""
    if not polled(kinesis_stack):
        pytest.skip(
            "nothing publishes PolledEventCount for the mapping on this LocalStack (it emits no event source "
            "mapping metrics by itself): the stopped-consumer check is covered by tests/unit/test_doctor_polling.py"
        )
    assert STOPPED not in {f.title for f in diagnose(kinesis_stack).findings}
    later = datetime.now(tz=UTC) + timedelta(minutes=MINUTES)
    stopped = [f for f in diagnose(kinesis_stack, now=later).findings if f.title == STOPPED]
    assert [f.severity for f in stopped] == [doctor.Severity.CRITICAL]
    assert f"EventSourceMappingUUID={the_mapping(kinesis_stack)['UUID']}" in stopped[0].evidence
