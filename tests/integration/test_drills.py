"""Incident drills: every metric alarm of both examples, driven by an incident and by a healthy period.

What LocalStack 2026.3 does (measured): it evaluates plain metric alarms, also on ``AWS/*``
namespaces fed by PutMetricData, and reports the datapoints it evaluated in StateReasonData; it
does not evaluate metric-math or composite alarms, nor percentile statistics.

* Real incidents where LocalStack can make them: a poison record in the stream takes the
  handled-failure alarm (``RecordsFailed``, through the executor's EMF bridge) to ALARM, and a
  failing function (an event that is not a stream event) takes ``Errors`` to ALARM.
* Otherwise a synthetic series, put into the metric's real namespace under the dimension names AWS
  uses (tests/metric_catalog.py) with the values of the real resources, read from the
  AWS APIs, never from the alarm definitions. Each synthetic incident has its own value, and the
  drill checks that the alarm evaluated exactly that value (or a sum of it), so an alarm with a
  misspelt metric, a wrong dimension or a swapped metric fails.
* The healthy series keeps every alarm OK; wave 1 takes every alarm but ``record-age`` to ALARM
  (the lag incident is below the records-at-risk threshold, which must hold); wave 2 takes
  ``record-age`` to ALARM.
* Paging: with the default design the member alarms notify nobody, so the subscribed inbox gets
  nothing during the drill. The composites and the metric-math sink alarm are not evaluated by
  LocalStack: their rules and inputs are checked against the applied resources, and a composite
  set to ALARM (standing in for CloudWatch's evaluation) delivers one notification through the
  real topic, its policy and its key.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from metric_catalog import CATALOG
from stack_support import Stack, client, empty_failure_path, wait_for
from support import telemetry

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.drill

FEED_EVERY_S = 5.0
WAIT_S = 120.0
# The examples' settings the thresholds follow: a 30 s timeout, 24 h retention, so a maximum
# record age of 12 h and a replay window of 12 h.
TIMEOUT_MS = 30_000
RECORD_AGE_MS = 12 * 3600 * 1000
REPLAY_WINDOW_S = 12 * 3600


@dataclass(frozen=True)
class Drill:
    alarm: str  # the module's alarm key (the alarm is named "<name>-<key>")
    metric: str | None  # a CATALOG key for a synthetic incident; None: the incident is real
    breach: float = 0.0  # the incident's own value, above the threshold
    healthy: float = 0.0
    wave: int = 1


COMMON = [
    Drill("lambda-errors", None),
    Drill("records-failed", None),
    Drill("lambda-throttles", "Throttles", breach=7),
    Drill("lambda-duration", "Duration", breach=0.8 * TIMEOUT_MS + 13, healthy=900),
    Drill("iterator-age", "IteratorAge", breach=45_017, healthy=1_000),
    Drill("record-age", "IteratorAge", breach=0.5 * RECORD_AGE_MS + 19, healthy=1_000, wave=2),
    Drill("dropped-events", "DroppedEventCount", breach=23),
    Drill("failed-invoke-events", "FailedInvokeEventCount", breach=29),
    Drill("on-failure-delivered", "OnFailureDestinationDeliveredEventCount", breach=31),
    Drill("destination-delivery-failures", "DestinationDeliveryFailures", breach=37),
    Drill("on-failure-queue", "ApproximateNumberOfMessagesVisible", breach=47),
    Drill("failure-replay-window", "ApproximateAgeOfOldestMessage", breach=0.5 * REPLAY_WINDOW_S + 53),
]
QUEUE_ALARMS = {"on-failure-queue", "failure-replay-window"}
ARCHIVE = [d for d in COMMON if d.alarm not in QUEUE_ALARMS]  # an S3 failure archive has no queue to watch
KINESIS = [
    *COMMON,
    Drill("kinesis-write-throughput-exceeded", "WriteProvisionedThroughputExceeded", breach=41),
    Drill("kinesis-read-throughput-exceeded", "ReadProvisionedThroughputExceeded", breach=43),
]
CRITICAL = {
    "record-age",
    "dropped-events",
    "on-failure-delivered",
    "destination-delivery-failures",
    "on-failure-queue",
    "failure-replay-window",
}
METRIC_MATH = {"sink-write-throttles"}


def real_resources(stack: Stack) -> tuple[dict[str, str], str]:
    """The dimension values of the deployed resources, read from the AWS APIs, and the handler's namespace."""
    lam, sqs = client("lambda"), client("sqs")
    function = lam.get_function_configuration(FunctionName=stack.outputs["function_name"])
    env = function["Environment"]["Variables"]
    (mapping,) = lam.list_event_source_mappings(FunctionName=function["FunctionName"])["EventSourceMappings"]
    source_arn = mapping["EventSourceArn"]
    values = {
        "FunctionName": function["FunctionName"],
        "EventSourceMappingUUID": mapping["UUID"],
        "TableName": client("dynamodb").describe_table(TableName=env["SINK_TABLE_NAME"])["Table"]["TableName"],
        "service": env["POWERTOOLS_SERVICE_NAME"],
        "SourceType": "kinesis" if ":kinesis:" in source_arn else "dynamodb",
    }
    if stack.outputs.get("on_failure_queue_url"):
        queue = sqs.get_queue_attributes(QueueUrl=stack.outputs["on_failure_queue_url"], AttributeNames=["QueueArn"])
        values["QueueName"] = queue["Attributes"]["QueueArn"].rsplit(":", 1)[-1]
    if values["SourceType"] == "kinesis":
        summary = client("kinesis").describe_stream_summary(StreamName=source_arn.rsplit("/", 1)[-1])
        values["StreamName"] = summary["StreamDescriptionSummary"]["StreamName"]
    return values, env["METRICS_NAMESPACE"]


def put_series(values: dict[str, str], handler_namespace: str, points: dict[str, float]) -> None:
    """One datapoint now for each catalog metric in ``points``, under the real resources' dimensions."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    now = datetime.now(tz=UTC)
    for key, value in points.items():
        metric = CATALOG[key]
        namespace = handler_namespace if metric.namespace == "{handler}" else metric.namespace
        by_namespace.setdefault(namespace, []).append(
            {
                "MetricName": metric.name,
                "Dimensions": [{"Name": d, "Value": values[d]} for d in metric.dimensions],
                "Timestamp": now,
                "Value": value,
            }
        )
    for namespace, data in by_namespace.items():
        client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=data)


def alarm_states(prefix: str) -> dict[str, dict[str, Any]]:
    alarms = client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    return {a["AlarmName"].removeprefix(prefix): a for a in alarms}


def feed_until(
    prefix: str, feed: Callable[[], None], done: Callable[[dict[str, dict[str, Any]]], bool]
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + WAIT_S
    while True:
        feed()
        states = alarm_states(prefix)
        if done(states) or time.monotonic() > deadline:
            return states
        time.sleep(FEED_EVERY_S)


def evaluated(alarm: dict[str, Any]) -> list[float]:
    return [float(v) for v in json.loads(alarm.get("StateReasonData") or "{}").get("recentDatapoints", [])]


def caused_by(alarm: dict[str, Any], value: float) -> bool:
    """The alarm evaluated this incident's value: itself (Maximum) or a sum of 1 to 3 puts of it (Sum)."""
    return any(any(abs(d - k * value) < 1e-6 for k in (1, 2, 3)) for d in evaluated(alarm))


def in_state(states: dict[str, dict[str, Any]], keys: set[str], state: str) -> bool:
    return all(states.get(key, {}).get("StateValue") == state for key in keys)


def subscribe_inbox(topic_arn: str, name: str) -> tuple[str, str]:
    sqs = client("sqs")
    inbox = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    return inbox, subscription


def notifications(inbox: str) -> list[dict[str, Any]]:
    found = []
    while True:
        received = client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if not received.get("Messages"):
            return found
        found += [json.loads(json.loads(m["Body"])["Message"]) for m in received["Messages"]]


def run_drill(stack: Stack, drills: list[Drill], poison: Callable[[], None], good: Callable[[], None]) -> None:
    name = stack.outputs["function_name"]
    prefix = f"{name}-"
    values, handler_namespace = real_resources(stack)
    states = alarm_states(prefix)
    plain = {key for key, alarm in states.items() if "MetricName" in alarm}
    assert plain == {d.alarm for d in drills}, "every plain metric alarm of the stack has a drill, and no more"
    assert set(states) - plain == METRIC_MATH

    synthetic = [d for d in drills if d.metric is not None]
    healthy = {d.metric: d.healthy for d in synthetic if d.metric}

    def invoke_failing() -> None:
        client("lambda").invoke(FunctionName=name, Payload=b'{"drill": "not a stream event"}')

    inbox, subscription = subscribe_inbox(stack.outputs["sns_topic_arn"], f"{name}-drill-inbox")
    try:
        # Healthy: healthy values for every metric and good records through the real pipeline.
        def feed_healthy() -> None:
            put_series(values, handler_namespace, healthy)
            good()

        states = feed_until(prefix, feed_healthy, lambda s: in_state(s, plain, "OK"))
        assert {k: s["StateValue"] for k, s in states.items() if k in plain and s["StateValue"] != "OK"} == {}

        # Wave 1: every incident but records-at-risk, at once; each alarm must show its own incident's value.
        wave1 = {d.alarm for d in drills if d.wave == 1}
        points1 = {**healthy, **{d.metric: d.breach for d in synthetic if d.wave == 1 and d.metric}}

        def feed_wave1() -> None:
            put_series(values, handler_namespace, points1)
            poison()
            invoke_failing()

        states = feed_until(prefix, feed_wave1, lambda s: in_state(s, wave1, "ALARM"))
        assert {k for k in wave1 if states[k]["StateValue"] != "ALARM"} == set(), "incidents that did not fire"
        assert states["record-age"]["StateValue"] == "OK", "a 45 s lag must not be records at risk"
        for drill in synthetic:
            if drill.wave == 1:
                assert caused_by(states[drill.alarm], drill.breach), (drill.alarm, evaluated(states[drill.alarm]))
        assert any(v >= 1 for v in evaluated(states["records-failed"])), evaluated(states["records-failed"])
        assert any(v >= 1 for v in evaluated(states["lambda-errors"])), evaluated(states["lambda-errors"])

        # Wave 2: the consumer half the maximum record age behind.
        (at_risk,) = [d for d in drills if d.wave == 2]
        points2 = {**healthy, at_risk.metric or "": at_risk.breach}
        states = feed_until(
            prefix,
            lambda: put_series(values, handler_namespace, points2),
            lambda s: in_state(s, {at_risk.alarm}, "ALARM"),
        )
        assert states[at_risk.alarm]["StateValue"] == "ALARM"
        assert caused_by(states[at_risk.alarm], at_risk.breach), evaluated(states[at_risk.alarm])

        # Paging: the members notified nobody.
        member_pages = [n for n in notifications(inbox) if n.get("AlarmName", "").startswith(prefix)]
        assert member_pages == [], "with paging = composite, member alarms must not page"
        check_composites_and_metric_math(stack, name, values, drills, inbox)
    finally:
        client("sns").unsubscribe(SubscriptionArn=subscription)
        client("sqs").delete_queue(QueueUrl=inbox)
        empty_failure_path(stack)


def check_composites_and_metric_math(
    stack: Stack, name: str, values: dict[str, str], drills: list[Drill], inbox: str
) -> None:
    """LocalStack evaluates neither composites nor metric math: check their rules and inputs instead."""
    cloudwatch = client("cloudwatch")
    composites = {
        c["AlarmName"]: c
        for c in cloudwatch.describe_alarms(AlarmNamePrefix=name, AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    }
    expected = {
        f"{name}-critical": {d.alarm for d in drills if d.alarm in CRITICAL},
        f"{name}-warning": {d.alarm for d in drills if d.alarm not in CRITICAL} | METRIC_MATH,
    }
    assert set(composites) == set(expected)
    for composite, members in expected.items():
        rule = composites[composite]["AlarmRule"]
        assert set(rule.split(" OR ")) == {f'ALARM("{name}-{m}")' for m in members}
        assert composites[composite]["AlarmActions"] == [stack.outputs["sns_topic_arn"]]

    (sink_alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{name}-sink-write-throttles"])["MetricAlarms"]
    queries = {q["Id"]: q for q in sink_alarm["Metrics"]}
    assert queries["e"]["Expression"] == "FILL(m, 0)"
    assert queries["e"]["ReturnData"] is True
    stat = queries["m"]["MetricStat"]
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == ("AWS/DynamoDB", "WriteThrottleEvents")
    assert stat["Metric"]["Dimensions"] == [{"Name": "TableName", "Value": values["TableName"]}]

    # A composite in ALARM (set by hand: LocalStack does not evaluate it) pages once, through the real topic.
    critical = f"{name}-critical"
    cloudwatch.set_alarm_state(AlarmName=critical, StateValue="ALARM", StateReason="drill: records at risk")
    try:
        pages = wait_for(lambda: notifications(inbox), bool, timeout=30)
        assert [(p["AlarmName"], p["NewStateValue"]) for p in pages] == [(critical, "ALARM")]
        assert "What to do" in pages[0]["AlarmDescription"]
    finally:
        cloudwatch.set_alarm_state(AlarmName=critical, StateValue="OK", StateReason="drill over")


def kinesis_drill(stack: Stack) -> None:
    kinesis = client("kinesis")
    stream = stack.outputs["stream_name"]
    second = iter(range(1, 10_000))

    def poison() -> None:
        kinesis.put_record(StreamName=stream, Data=b"\xff drill poison", PartitionKey="drill")

    def good() -> None:
        kinesis.put_record(StreamName=stream, Data=json.dumps(telemetry(1, next(second), race=777)), PartitionKey="1")

    run_drill(stack, KINESIS, poison, good)


def dynamodb_drill(stack: Stack) -> None:
    dynamodb = client("dynamodb")
    table = stack.outputs["source_table_name"]
    count = iter(range(1, 10_000))

    def poison() -> None:
        # A change larger than the handler's 64 KiB MAX_RECORD_BYTES: poison for the audit processor.
        dynamodb.put_item(TableName=table, Item={"id": {"S": f"big-{next(count)}"}, "blob": {"S": "x" * 80_000}})

    def good() -> None:
        dynamodb.put_item(TableName=table, Item={"id": {"S": f"drill-{next(count)}"}, "total": {"N": "1"}})

    run_drill(stack, ARCHIVE, poison, good)


def test_every_alarm_of_both_examples_fires_on_its_incident_and_stays_ok_when_healthy(
    kinesis_stack: Stack, dynamodb_stack: Stack
) -> None:
    """Both stacks drilled at once (their alarms, metrics and resources are apart): the drills are
    mostly waiting for LocalStack's alarm evaluation, so this halves the tier's time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        drills = [pool.submit(kinesis_drill, kinesis_stack), pool.submit(dynamodb_drill, dynamodb_stack)]
        for drill in drills:
            drill.result()  # re-raises the drill's assertion, with its message
