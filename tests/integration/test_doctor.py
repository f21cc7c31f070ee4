"""Doctor drills on LocalStack: one fault on the live stack gives exactly its finding, and the
healthy stack gives none. The doctor reads the stack through the same AWS APIs as in a real
account, here LocalStack's."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from stack_support import Stack, client, wait_for
from stream_pipeline_ops import doctor

if TYPE_CHECKING:
    from collections.abc import Iterator


def serious(stack: Stack) -> set[str]:
    report = doctor.diagnose(client, stack.outputs["function_name"], stack.outputs["sns_topic_arn"], minutes=10)
    return {f.title for f in report.findings if f.severity > doctor.Severity.INFO}


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


def test_a_healthy_stack_has_no_finding(kinesis_stack: Stack, someone_listens: None) -> None:
    assert serious(kinesis_stack) == set()


def test_a_topic_nobody_confirmed_is_the_missing_alerts_row(kinesis_stack: Stack) -> None:
    assert serious(kinesis_stack) == {'nobody receives the alarms (the workshop\'s "missing alerts")'}


def test_a_disabled_mapping(kinesis_stack: Stack, someone_listens: None) -> None:
    lam = client("lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName=kinesis_stack.outputs["function_name"])[
        "EventSourceMappings"
    ]
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    try:
        wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"], lambda s: s == "Disabled")
        assert serious(kinesis_stack) == {"the event source mapping is Disabled: nothing is being processed"}
    finally:
        lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
        wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"], lambda s: s == "Enabled")


def test_reserved_concurrency_below_shards_times_parallelization(kinesis_stack: Stack, someone_listens: None) -> None:
    lam = client("lambda")
    name = kinesis_stack.outputs["function_name"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)  # the example needs 2 x 2
    try:
        assert serious(kinesis_stack) == {"reserved concurrency is below what the stream needs: it throttles itself"}
    finally:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=10)


def test_records_in_the_failure_path(kinesis_stack: Stack, someone_listens: None) -> None:
    sqs = client("sqs")
    queue = kinesis_stack.outputs["on_failure_queue_url"]
    failure = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "KinesisBatchInfo": {"shardId": "shardId-0"}}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(failure))
    try:
        assert serious(kinesis_stack) == {"1 failed batch(es) wait in the on-failure queue"}
    finally:
        sqs.purge_queue(QueueUrl=queue)
