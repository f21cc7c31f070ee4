"""stream-pipeline doctor: each fault gives exactly its finding, with the numbers it read and a fix.

The AWS answers are canned in the shapes the APIs return (the drills on LocalStack,
tests/integration/test_doctor.py, read the same checks from a live stack).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stream_pipeline_ops import cli, doctor

FN = "alleycat"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:alleycat-failures"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alleycat-alarms"

HEALTHY: dict[tuple[str, str], Any] = {
    ("lambda", "get_function_configuration"): {
        "FunctionName": FN,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "Timeout": 30,
        "Environment": {"Variables": {"SINK_TABLE_NAME": "alleycat-sink"}},
    },
    ("lambda", "list_event_source_mappings"): {
        "EventSourceMappings": [
            {
                "UUID": "6d9a3b1e",
                "EventSourceArn": STREAM_ARN,
                "State": "Enabled",
                "StateTransitionReason": "USER_INITIATED",
                "LastProcessingResult": "OK",
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumRetryAttempts": 3,
                "BisectBatchOnFunctionError": True,
                "MaximumRecordAgeInSeconds": 43200,
                "ParallelizationFactor": 2,
                "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
            }
        ]
    },
    ("kinesis", "describe_stream_summary"): {
        "StreamDescriptionSummary": {
            "StreamName": "alleycat",
            "StreamStatus": "ACTIVE",
            "RetentionPeriodHours": 24,
            "OpenShardCount": 2,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        }
    },
    ("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 10},
    ("dynamodb", "describe_table"): {
        "Table": {
            "TableName": "alleycat-sink",
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {"WriteCapacityUnits": 0},
        }
    },
    ("sqs", "get_queue_url"): {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/alleycat-failures"},
    ("sqs", "get_queue_attributes"): {
        "Attributes": {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    },
    ("cloudwatch", "describe_alarms"): {
        "MetricAlarms": [{"AlarmName": f"{FN}-lambda-errors", "StateValue": "OK", "AlarmActions": []}],
        "CompositeAlarms": [{"AlarmName": f"{FN}-critical", "StateValue": "OK", "AlarmActions": [TOPIC]}],
    },
    ("sns", "list_subscriptions_by_topic"): {
        "Subscriptions": [
            {"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "oncall@example.com"},
        ]
    },
    ("logs", "describe_log_groups"): {"logGroups": [{"logGroupName": f"/aws/lambda/{FN}", "retentionInDays": 7}]},
}


class FakeAWS:
    """Answers per (service, operation); metrics per metric name; a ClientError where told. Every
    call is counted by (service, operation)."""

    def __init__(self, answers: dict[tuple[str, str], Any], metrics: dict[str, list[float]] | None = None) -> None:
        self.answers = answers
        self.metrics = metrics or {}
        self.calls: Counter[tuple[str, str]] = Counter()

    def metric_data(self, queries: list[dict[str, Any]]) -> dict[str, Any]:
        results = []
        for query in queries:
            assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", query["Id"]), query["Id"]  # what GetMetricData accepts
            stat = query["MetricStat"]
            assert stat["Period"] == 60
            assert all(d["Value"] for d in stat["Metric"]["Dimensions"]), "a query without its dimension"
            values = self.metrics.get(stat["Metric"]["MetricName"], [])
            results.append({"Id": query["Id"], "Values": values, "StatusCode": "Complete"})
        return {"MetricDataResults": results}

    def __call__(self, service: str) -> Any:
        fake = self

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> Any:
                    fake.calls[(service, operation)] += 1
                    answer = fake.answers.get((service, operation))
                    if isinstance(answer, Exception):
                        raise answer
                    if service == "cloudwatch" and operation == "get_metric_data":
                        return fake.metric_data(kwargs["MetricDataQueries"])
                    if service == "cloudwatch" and operation == "get_metric_statistics":
                        (stat,) = kwargs["Statistics"]
                        return {"Datapoints": [{stat: v} for v in fake.metrics.get(kwargs["MetricName"], [])]}
                    answer = fake.answers[(service, operation)]
                    if isinstance(answer, Exception):
                        raise answer
                    return copy.deepcopy(answer)

                return call

        return Client()


def error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} for {operation}"}}, operation)


def run(
    answers: dict[tuple[str, str], Any] | None = None, metrics: dict[str, list[float]] | None = None
) -> doctor.Report:
    return doctor.diagnose(FakeAWS({**HEALTHY, **(answers or {})}, metrics), FN)


def serious(report: doctor.Report) -> list[tuple[str, str]]:
    return [(str(f.severity), f.title) for f in report.sorted() if f.severity > doctor.Severity.INFO]


def mapping(**changes: Any) -> dict[tuple[str, str], Any]:
    answer = copy.deepcopy(HEALTHY[("lambda", "list_event_source_mappings")])
    answer["EventSourceMappings"][0].update(changes)
    return {("lambda", "list_event_source_mappings"): answer}


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


def test_reserved_concurrency_below_shards_times_parallelization_is_critical() -> None:
    report = run({("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 3}})
    assert serious(report) == [("critical", "reserved concurrency is below what the stream needs: it throttles itself")]
    assert "ReservedConcurrentExecutions=3 < 2 shard(s) x parallelization factor 2 = 4" in report.findings[0].evidence


def test_a_stopped_function_and_a_failed_deployment_are_critical() -> None:
    function = {**HEALTHY[("lambda", "get_function_configuration")], "State": "Failed", "LastUpdateStatus": "Failed"}
    titles = [t for _, t in serious(run({("lambda", "get_function_configuration"): function}))]
    assert titles == ["the function is Failed", "the last deployment of the function failed"]


def test_throttled_producers_are_a_warning_with_the_count() -> None:
    report = run(metrics={"WriteProvisionedThroughputExceeded": [12.0, 3.0]})
    assert serious(report) == [("warning", "producers were throttled")]
    assert report.findings[0].evidence == "WriteProvisionedThroughputExceeded=15 in the last 60 min"


def test_the_stream_near_its_record_limit_the_blogs_race_on_one_shard() -> None:
    """Seed 002: 1,000 racers at 1 msg/s on one shard is 100% of 1,000 records/s."""
    summary = copy.deepcopy(HEALTHY[("kinesis", "describe_stream_summary")])
    summary["StreamDescriptionSummary"]["OpenShardCount"] = 1
    answers = {
        ("kinesis", "describe_stream_summary"): summary,
        ("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 10},
    }
    report = run(answers, metrics={"IncomingRecords": [60_000.0], "IncomingBytes": [60_000.0 * 200]})
    assert serious(report) == [("warning", "the stream runs at 100% of its IncomingRecords limit")]
    assert "peak 1,000 records/s" in report.findings[0].evidence


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
    assert "Errors=3" in next(f.evidence for f in report.findings if "failed" in f.title)


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


def test_failures_in_the_queue_and_a_closing_replay_window() -> None:
    waiting = {
        ("sqs", "get_queue_attributes"): {
            "Attributes": {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "1"}
        }
    }
    report = run(waiting, {"ApproximateAgeOfOldestMessage": [60.0]})
    assert serious(report) == [("warning", "3 failed batch(es) wait in the on-failure queue")]
    closing = run(waiting, {"ApproximateAgeOfOldestMessage": [30_000.0]})  # over half of 24 h - 12 h
    assert serious(closing) == [
        ("critical", "3 failed batch(es) wait in the on-failure queue: the replay window is closing")
    ]


def test_failures_in_the_archive() -> None:
    archive = mapping(DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::alleycat-failures-x"}})
    listed = {
        ("s3", "list_objects_v2"): {"KeyCount": 2, "Contents": [{"Key": "aws/lambda/a"}, {"Key": "aws/lambda/b"}]}
    }
    report = run({**archive, **listed})
    assert serious(report) == [("warning", "2 failed batch(es) wait in the failure archive")]
    assert "stream-pipeline redrive" in report.findings[0].fix


def test_alarms_in_alarm_and_a_topic_nobody_confirmed() -> None:
    alarms = {
        "MetricAlarms": [{"AlarmName": f"{FN}-dropped-events", "StateValue": "ALARM", "AlarmActions": []}],
        "CompositeAlarms": [{"AlarmName": f"{FN}-critical", "StateValue": "ALARM", "AlarmActions": [TOPIC]}],
    }
    pending = {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email"}]}
    report = run({("cloudwatch", "describe_alarms"): alarms, ("sns", "list_subscriptions_by_topic"): pending})
    assert serious(report) == [
        ("critical", "1 alarm(s) in ALARM"),
        ("warning", 'nobody receives the alarms (the workshop\'s "missing alerts")'),
    ]
    assert "1 pending confirmation, 0 confirmed" in report.sorted()[1].evidence


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


def test_a_deleted_function_is_critical_and_stops_there() -> None:
    report = run(
        {("lambda", "get_function_configuration"): error("ResourceNotFoundException", "GetFunctionConfiguration")}
    )
    assert serious(report) == [("critical", f"function {FN} does not exist")]


def test_the_command_prints_json_and_exits_with_the_severity(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(cli, "client", FakeAWS({**HEALTHY, **mapping(State="Disabled")}))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"function_name": {"value": FN, "type": "string", "sensitive": False}}))
    assert cli.main(["doctor", "--outputs", str(outputs), "--json"]) == 2
    printed = json.loads(capsys.readouterr().out)
    assert printed["function"] == FN
    assert printed["findings"][0]["severity"] == "critical"


def test_the_command_on_a_healthy_stack_prints_one_reassuring_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(cli, "client", FakeAWS(HEALTHY))
    assert cli.main(["doctor", "--function", FN]) == 0
    assert capsys.readouterr().out.startswith(f"No problems found in {FN}: checked function, event source mapping")


def test_without_a_stack_the_command_says_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor"]) == cli.EXIT_STACK
    assert "pass --function NAME, --outputs FILE or --terraform-dir DIR" in capsys.readouterr().err


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


def test_without_a_region_the_command_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert cli.main(["doctor", "--function", FN]) == cli.EXIT_STACK
    assert "No AWS region: set AWS_DEFAULT_REGION" in capsys.readouterr().err


def test_every_metric_comes_from_one_get_metric_data() -> None:
    aws = FakeAWS(HEALTHY, metrics={"IteratorAge": [45_000.0], "WriteThrottleEvents": [3.0]})
    report = doctor.diagnose(aws, FN)
    assert ("warning", "the consumer is falling behind") in serious(report)
    assert ("warning", "the sink throttled writes") in serious(report)
    assert aws.calls[("cloudwatch", "get_metric_data")] == 1
    assert aws.calls[("cloudwatch", "get_metric_statistics")] == 0, "a check read a metric the plan did not fetch"


def test_without_get_metric_data_the_checks_ask_for_each_metric_and_say_what_to_grant() -> None:
    answers = {**HEALTHY, ("cloudwatch", "get_metric_data"): error("AccessDenied", "GetMetricData")}
    aws = FakeAWS(answers, metrics={"IteratorAge": [45_000.0]})
    report = doctor.diagnose(aws, FN)
    assert ("warning", "could not read the stack's metrics") in serious(report)
    (finding,) = [f for f in report.findings if f.title == "could not read the stack's metrics"]
    assert "cloudwatch:GetMetricData" in finding.fix
    assert ("warning", "the consumer is falling behind") in serious(report), "the per-metric path still reads it"
    assert aws.calls[("cloudwatch", "get_metric_statistics")] > 0
