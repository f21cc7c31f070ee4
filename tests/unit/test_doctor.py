"""stream-pipeline doctor: each fault gives exactly its finding, with the numbers it read and a fix;
the exit status follows the worst finding, and 3 when there is no stack to read.

The AWS answers are canned in the shapes the APIs return (tests/doctor_fakes.py; the drills on
LocalStack, tests/integration/test_doctor.py, read the same checks from a live stack). The
concurrency and capacity, failure path and stopped-consumer checks have their own files.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from doctor_fakes import FN, HEALTHY, NOW, TOPIC, aws, error, mapping, only, queue, run, serious, summary
from stream_pipeline_ops import cli, doctor
from stream_pipeline_ops.stack import StackError


def test_a_healthy_stack_has_no_finding() -> None:
    report = run()
    assert report.findings == []
    assert report.exit_code == 0
    assert report.checked == ["function", "event source mapping", "stream", "sink", "failure path", "alarms"]


def test_a_disabled_mapping_is_critical_with_its_reason_and_the_command_to_enable_it() -> None:
    report = run(mapping(State="Disabled", StateTransitionReason="USER_INITIATED"))
    assert serious(report) == [("critical", "the event source mapping is Disabled: nothing is being processed")]
    (finding,) = report.findings
    assert "StateTransitionReason=USER_INITIATED" in finding.evidence
    assert "update-event-source-mapping --uuid 6d9a3b1e --enabled" in finding.fix
    assert report.exit_code == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"FunctionResponseTypes": []}, "partial batch responses are off: the handler's failure reports are ignored"),
        ({"MaximumRetryAttempts": -1}, "a poison record is retried until it expires, blocking its shard"),
        ({"DestinationConfig": {}}, "no on-failure destination: records given up are lost without a trace"),
        ({"MaximumRecordAgeInSeconds": 86400}, "records expire before Lambda gives them up: lost without a trace"),
        ({"LastProcessingResult": "PROBLEM: Function call failed"}, "the mapping's last processing had a problem"),
    ],
)
def test_mapping_settings_against_the_stream(changes: dict[str, Any], expected: str) -> None:
    assert [title for _, title in serious(run(mapping(**changes)))] == [expected]


def test_a_stopped_function_and_a_failed_deployment_are_critical() -> None:
    function = {**HEALTHY[("lambda", "get_function_configuration")], "State": "Failed", "LastUpdateStatus": "Failed"}
    titles = [t for _, t in serious(run({("lambda", "get_function_configuration"): function}))]
    assert titles == ["the function is Failed", "the last deployment of the function failed"]


def test_throttled_producers_are_a_warning_with_the_count() -> None:
    report = run(metrics={"WriteProvisionedThroughputExceeded": [12.0, 3.0]})
    assert serious(report) == [("warning", "producers were throttled")]
    assert report.findings[0].evidence == "WriteProvisionedThroughputExceeded=15 in the last 60 min"


def test_lag_warns_at_thirty_seconds_and_is_critical_at_half_the_record_age() -> None:
    assert serious(run(metrics={"IteratorAge": [45_000.0]})) == [("warning", "the consumer is falling behind")]
    critical = run(metrics={"IteratorAge": [0.6 * 43_200_000]})
    assert serious(critical) == [("critical", "records are at risk: the consumer is far behind")]


def test_errors_throttles_and_slow_invocations() -> None:
    report = run(metrics={"Errors": [2.0, 1.0], "Throttles": [4.0], "Duration": [29_000.0]})
    assert [t for _, t in serious(report)] == [
        "invocations come close to the timeout",
        "the function failed invocations",
        "the function was throttled",
    ]
    assert only(report, "the function failed invocations").evidence == "Errors=3 in the last 60 min"


def test_a_throttled_sink_and_a_provisioned_one_near_capacity() -> None:
    table = {
        "Table": {
            "TableName": "alleycat-sink",
            "BillingModeSummary": {"BillingMode": "PROVISIONED"},
            "ProvisionedThroughput": {"WriteCapacityUnits": 5},
        }
    }
    report = run(
        {("dynamodb", "describe_table"): table}, {"WriteThrottleEvents": [12.0], "ConsumedWriteCapacityUnits": [300.0]}
    )
    assert [t for _, t in serious(report)] == ["the sink throttled writes", "the sink uses most of its write capacity"]


def test_alarms_in_alarm_and_a_topic_nobody_confirmed() -> None:
    alarms = {
        "MetricAlarms": [{"AlarmName": f"{FN}-dropped-events", "StateValue": "ALARM", "AlarmActions": []}],
        "CompositeAlarms": [{"AlarmName": f"{FN}-lost", "StateValue": "ALARM", "AlarmActions": [TOPIC]}],
    }
    pending = {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email"}]}
    report = run({("cloudwatch", "describe_alarms"): alarms, ("sns", "list_subscriptions_by_topic"): pending})
    assert serious(report) == [
        ("critical", "1 alarm(s) in ALARM"),
        ("warning", 'nobody receives the alarms (the workshop\'s "missing alerts")'),
    ]
    assert "1 pending confirmation, 0 confirmed" in report.sorted()[1].evidence


def test_a_degraded_alarm_is_a_warning_and_another_consumers_alarms_are_not_ours() -> None:
    """`DescribeAlarms(AlarmNamePrefix="alleycat-")` also returns `alleycat-archive-...`, another
    consumer's alarms: only alleycat's own count, and only a loss-class alarm makes the finding critical."""
    alarms = {
        "MetricAlarms": [
            {"AlarmName": f"{FN}-lambda-errors", "StateValue": "ALARM", "AlarmActions": []},
            {"AlarmName": f"{FN}-archive-dropped-events", "StateValue": "ALARM", "AlarmActions": []},
        ],
        "CompositeAlarms": [
            {"AlarmName": f"{FN}-failing", "StateValue": "ALARM", "AlarmActions": [TOPIC]},
            {"AlarmName": f"{FN}-archive-lost", "StateValue": "ALARM", "AlarmActions": [TOPIC]},
        ],
    }
    report = run({("cloudwatch", "describe_alarms"): alarms})
    assert serious(report) == [("warning", "1 alarm(s) in ALARM")]
    assert only(report, "1 alarm(s) in ALARM").evidence == f"{FN}-lambda-errors"


def test_a_log_group_without_retention() -> None:
    groups = {"logGroups": [{"logGroupName": f"/aws/lambda/{FN}"}]}
    assert serious(run({("logs", "describe_log_groups"): groups})) == [
        ("warning", "the log group keeps logs forever (and bills for them)")
    ]


def test_partial_permissions_are_findings_and_the_other_checks_still_run() -> None:
    report = run(
        {
            ("cloudwatch", "describe_alarms"): error("AccessDenied", "DescribeAlarms"),
            ("lambda", "get_function_concurrency"): error("AccessDeniedException", "GetFunctionConcurrency"),
        }
    )
    assert sorted(t for _, t in serious(report)) == [
        "could not read the alarms",
        "could not read the reserved concurrency",
    ]
    fixes = {f.title: f.fix for f in report.findings}
    assert "grant cloudwatch:DescribeAlarms" in fixes["could not read the alarms"]
    assert "sink" in report.checked


# ------------------------------------------------------------------ no stack: exit status 3
def test_a_deleted_function_is_no_stack_not_a_finding() -> None:
    missing = {("lambda", "get_function_configuration"): error("ResourceNotFoundException", "GetFunction")}
    with pytest.raises(StackError, match=f"There is no function {FN} \\(ResourceNotFoundException\\)"):
        run(missing)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (NoCredentialsError(), "No AWS credentials: set AWS_PROFILE"),
        (error("UnrecognizedClientException", "GetFunctionConfiguration"), "AWS refused the credentials"),
        (error("ExpiredTokenException", "GetFunctionConfiguration"), "AWS refused the credentials"),
        (error("AccessDeniedException", "GetFunctionConfiguration"), "grant lambda:GetFunctionConfiguration"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "Cannot reach AWS to read function"),
    ],
)
def test_without_credentials_or_a_readable_function_the_doctor_has_no_stack(failure: Exception, message: str) -> None:
    with pytest.raises(StackError, match=re.escape(message)):
        run({("lambda", "get_function_configuration"): failure})


def test_the_command_exits_3_for_a_function_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {("lambda", "get_function_configuration"): error("ResourceNotFoundException", "GetFunction")}
    monkeypatch.setattr(cli, "client", aws(missing))
    assert cli.main(["doctor", "--function", FN]) == cli.EXIT_STACK == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"There is no function {FN}" in captured.err


def test_the_command_exits_3_without_credentials_against_real_boto3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """boto3's own credential chain, finding nothing (no keys, no files, no instance metadata)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert cli.main(["doctor", "--function", FN]) == 3
    assert "credentials" in capsys.readouterr().err


def test_a_missing_queue_is_still_a_finding_not_an_exit_3() -> None:
    report = run({("sqs", "get_queue_url"): error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl")})
    assert serious(report) == [("critical", "queue alleycat-failures does not exist")]
    assert report.exit_code == 2


def test_without_a_stack_the_command_says_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor"]) == cli.EXIT_STACK
    assert "pass --function NAME, --outputs FILE or --terraform-dir DIR" in capsys.readouterr().err


def test_without_a_region_the_command_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert cli.main(["doctor", "--function", FN]) == cli.EXIT_STACK
    assert "No AWS region: set AWS_DEFAULT_REGION" in capsys.readouterr().err


# ------------------------------------------------------------------ the command's output
def test_the_command_prints_json_and_exits_with_the_severity(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "client", aws(mapping(State="Disabled")))
    assert cli.main(["doctor", "--function", FN, "--json"]) == 2
    printed = json.loads(capsys.readouterr().out)
    assert printed["function"] == FN
    assert printed["exit_code"] == 2
    assert printed["findings"][0]["severity"] == "critical"


def test_the_command_on_a_healthy_stack_prints_one_reassuring_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "client", aws())
    assert cli.main(["doctor", "--function", FN]) == 0
    assert capsys.readouterr().out.startswith(f"No problems found in {FN}: checked function, event source mapping")


def test_a_dynamodb_source_reads_its_table_stream() -> None:
    ddb = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"
    answers = {
        **mapping(EventSourceArn=ddb, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::orders-failures"}}),
        ("dynamodbstreams", "describe_stream"): {"StreamDescription": {"StreamStatus": "ENABLED"}},
        ("s3", "list_objects_v2"): {"KeyCount": 0},
    }
    report = run(answers)
    assert serious(report) == []
    assert "stream" in report.checked
    disabled = {**answers, ("dynamodbstreams", "describe_stream"): {"StreamDescription": {"StreamStatus": "DISABLED"}}}
    assert serious(run(disabled)) == [("critical", "the table's stream is DISABLED")]


# ------------------------------------------------------------------ one GetMetricData
EVERYTHING = {
    **mapping(MaximumRecordAgeInSeconds=82_800),
    **summary(OpenShardCount=1),
    **queue(2, 1),
    ("lambda", "get_function_concurrency"): {},
    ("lambda", "get_account_settings"): {
        "AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}
    },
    ("dynamodb", "describe_table"): {
        "Table": {
            "BillingModeSummary": {"BillingMode": "PROVISIONED"},
            "ProvisionedThroughput": {"WriteCapacityUnits": 5},
        }
    },
}
"""A stack on which every check that weighs a metric reads it: a provisioned stream and sink, no
reservation, EventCount metrics, failures waiting in the queue."""


def test_every_metric_comes_from_one_get_metric_data() -> None:
    fake = aws(
        EVERYTHING,
        metrics={
            "IteratorAge": [45_000.0],
            "WriteThrottleEvents": [3.0],
            "IncomingRecords": [60_000.0],
            "ConcurrentExecutions": [999.0],
            "PolledEventCount": [(9, 0.0)],
            "ApproximateNumberOfMessagesVisible": [1.0] * 59,
        },
    )
    report = doctor.diagnose(fake, FN, now=NOW)
    assert {title for _, title in serious(report)} >= {
        "the consumer is falling behind",
        "the sink throttled writes",
        "the stream runs at 100% of its IncomingRecords limit",
        "the consumer has no reserved concurrency and the account's other functions can starve it",
        "the consumer has stopped reading: records will expire unseen at the end of the retention",
        "3 failed batch(es) wait in the on-failure queue: the replay window is closing",
    }
    assert fake.calls[("cloudwatch", "get_metric_data")] == 1
    assert fake.calls[("cloudwatch", "get_metric_statistics")] == 0, "a check read a metric the plan did not fetch"


def test_the_metric_queries_are_valid_and_name_every_new_metric() -> None:
    fake = aws(EVERYTHING)
    doctor.diagnose(fake, FN, now=NOW)
    (request,) = fake.requests
    ids = [query["Id"] for query in request["MetricDataQueries"]]
    assert len(ids) == len(set(ids)) <= 500
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", i) for i in ids)
    assert request["EndTime"] == NOW
    queried = set(fake.queried())
    assert ("AWS/Lambda", "ConcurrentExecutions", (), "Maximum") in queried  # the account's: no dimension
    assert ("AWS/Lambda", "PolledEventCount", (("EventSourceMappingUUID", "6d9a3b1e"),), "Sum") in queried
    for name in ("ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible"):
        assert ("AWS/SQS", name, (("QueueName", "alleycat-failures"),), "Maximum") in queried
    assert ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", (("QueueName", "alleycat-failures"),), "Maximum") in (
        queried
    )
    assert len(queried) == len(ids), "a metric asked for twice"


def test_without_get_metric_data_the_checks_ask_for_each_metric_and_say_what_to_grant() -> None:
    fake = aws({("cloudwatch", "get_metric_data"): error("AccessDenied", "GetMetricData")}, {"IteratorAge": [45_000.0]})
    report = doctor.diagnose(fake, FN, now=NOW)
    assert ("warning", "could not read the stack's metrics") in serious(report)
    assert "cloudwatch:GetMetricData" in only(report, "could not read the stack's metrics").fix
    assert ("warning", "the consumer is falling behind") in serious(report), "the per-metric path still reads it"
    assert fake.calls[("cloudwatch", "get_metric_statistics")] > 0
    assert (
        "critical",
        "the consumer has stopped reading: records will expire unseen at the end of the retention",
    ) not in (serious(report)), "the per-metric path reads PolledEventCount with its timestamps too"
