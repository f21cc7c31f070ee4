"""Incident drills: every metric alarm of both examples fired by its incident, and the pages they send.

The drills run on stacks of their own (the tier's conftest applies them beside the shared ones),
in two threads started with the tier (``start``), so that their waiting for LocalStack's alarm
evaluation overlaps the other tests; tests/integration/test_drills.py waits for them and reports.

What LocalStack 2026.3 does (measured): it evaluates plain metric alarms, also on ``AWS/*``
namespaces fed by PutMetricData, with their missing-data handling, and reports the datapoints it
evaluated in StateReasonData; it evaluates composite alarms whose rule is an OR of ``ALARM("<arn>")``
terms (the module writes its rules so) and runs their actions; it stores ``ActionsSuppressor`` but
does not apply it; it evaluates neither metric math nor percentiles. It publishes SQS's
ApproximateNumberOfMessagesVisible (every 5 s with the harness's setting), and the local executor
publishes the event source mapping's metrics from LocalStack's poller (PolledEventCount, the failure
path's counts) and the handler's EMF metrics, as AWS does.

* Real incidents where LocalStack can make them: a poison record (records-failed, on-failure-delivered,
  the queue's alarms), a failing function (lambda-errors), a disabled mapping (consumer-stopped: its
  poller stops, so PolledEventCount stops).
* Otherwise a synthetic series, put into the metric's real namespace under the dimension names AWS
  uses (tests/metric_catalog.py) with the values of the real resources, read from the AWS APIs,
  never from the alarm definitions. Each synthetic incident has its own value, and the drill checks
  that the alarm evaluated exactly that value (or a sum of it), so an alarm with a misspelt metric,
  a wrong dimension or a swapped metric fails.
* Paging, read from a queue subscribed to the real topic: a poison record pages once as
  on-failure-delivered; while an old failure stands (the replay-window alarm, in ALARM for as long
  as the failure waits), every new loss-class incident still pages; members that page through a
  composite page nobody on their own. The `failing` composite's suppressor (the poison record's
  warning waits for on-failure-delivered) is checked against the applied alarm: LocalStack stores
  it but does not apply it, so its page arrives here and would not in AWS.
"""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_calls import BACKGROUND
from metric_catalog import CATALOG
from stack_support import (
    RECORD_AGE_S,
    Stack,
    client,
    empty_failure_path,
    operator,
    operator_json,
    outputs_file,
    queue_depth,
    subscribe_inbox,
    wait_for,
)
from support import telemetry

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

FEED_EVERY_S = 5.0
WAIT_S = 150.0
TIMEOUT_MS = 30_000
DEFAULT_RECORD_AGE_MS = 12 * 3600 * 1000  # the DynamoDB example: half the 24 h retention


@dataclass(frozen=True)
class Drill:
    alarm: str  # the module's alarm key (the alarm is named "<name>-<key>")
    metric: str | None  # a CATALOG key for a synthetic incident; None: the incident is real
    breach: float = 0.0  # the incident's own value, above the threshold
    healthy: float = 0.0
    wave: str = "B"


def drills(record_age_ms: float, *, queue: bool, kinesis: bool) -> list[Drill]:
    found = [
        Drill("records-failed", None, wave="A"),
        Drill("on-failure-delivered", None, wave="A"),
        Drill("lambda-errors", None),
        Drill("consumer-stopped", None),
        Drill("lambda-throttles", "Throttles", breach=7),
        Drill("lambda-duration", "Duration", breach=0.8 * TIMEOUT_MS + 13, healthy=900),
        Drill("iterator-age", "IteratorAge", breach=45_017, healthy=1_000),
        Drill("failed-invoke-events", "FailedInvokeEventCount", breach=29),
        Drill("dropped-events", "DroppedEventCount", breach=23),
        Drill("destination-delivery-failures", "DestinationDeliveryFailures", breach=37),
        Drill("record-age", "IteratorAge", breach=0.5 * record_age_ms + 19, healthy=1_000, wave="C"),
    ]
    if queue:
        found += [Drill("on-failure-queue", None, wave="A"), Drill("failure-replay-window", None, wave="A")]
    if kinesis:
        found += [
            Drill("kinesis-write-throughput-exceeded", "WriteProvisionedThroughputExceeded", breach=41),
            Drill("kinesis-read-throughput-exceeded", "ReadProvisionedThroughputExceeded", breach=43),
        ]
    return found


METRIC_MATH = {"sink-write-throttles"}
# Which alarms notify the topic on their own (the module's paging design); the others only through
# their composite, named after the consumer's function.
DIRECT = {
    "record-age", "consumer-stopped", "on-failure-delivered", "failure-replay-window",
    "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded",
}  # fmt: skip
COMPOSITES = {
    "failing": {"lambda-errors", "records-failed", "failed-invoke-events"},
    "behind": {"lambda-throttles", "lambda-duration", "iterator-age", "sink-write-throttles"},
    "lost": {"dropped-events", "destination-delivery-failures"},
}


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
    """Metric and composite alarms of the stack, by key (the name without the stack's prefix)."""
    found = client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return {a["AlarmName"].removeprefix(prefix): a for a in found["MetricAlarms"] + found["CompositeAlarms"]}


def feed_until(
    prefix: str,
    feed: Callable[[], None],
    done: Callable[[dict[str, dict[str, Any]]], bool],
    timeout: float = WAIT_S,
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        feed()
        states = alarm_states(prefix)
        if done(states) or time.monotonic() > deadline:
            return states
        time.sleep(FEED_EVERY_S)


def lag_s(alarm: dict[str, Any], state: str) -> float:
    """How much longer than AWS LocalStack 2026.3 may take to move a metric alarm into ``state`` once
    its metric says so (read in its alarm_scheduler): it evaluates an alarm every EvaluationPeriods x
    Period, at a fixed rate, over EvaluationPeriods + max(EvaluationPeriods // 3, 2) periods, and
    counts the breaching datapoints of all of them (AWS: of the last EvaluationPeriods). So it fires at
    the first evaluation after DatapointsToAlarm periods of breach, and returns to OK only once the
    whole look-back holds fewer than DatapointsToAlarm breaching periods (INSUFFICIENT_DATA: none at
    all): for the replay-window alarm (two periods of a minute) that is 4 and 6 minutes."""
    periods, period = alarm["EvaluationPeriods"], alarm["Period"]
    if state == "ALARM":
        return float((periods + alarm.get("DatapointsToAlarm", periods)) * period)
    return float((2 * periods + max(periods // 3, 2)) * period)


def evaluated(alarm: dict[str, Any]) -> list[float]:
    return [float(v) for v in json.loads(alarm.get("StateReasonData") or "{}").get("recentDatapoints", [])]


def caused_by(alarm: dict[str, Any], value: float) -> bool:
    """The alarm evaluated this incident's value: itself (Maximum) or a sum of 1 to 3 puts of it (Sum)."""
    return any(any(abs(d - k * value) < 1e-6 for k in (1, 2, 3)) for d in evaluated(alarm))


def feed_until_each(
    prefix: str, feed: Callable[[], None], keys: set[str], state: str, timeout: float = WAIT_S
) -> dict[str, dict[str, Any]]:
    """Feed until each alarm of ``keys`` has been in ``state``, not necessarily at once (a count alarm
    returns to OK a period later, while an age alarm takes its time); each alarm as first seen there."""
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while set(seen) != keys and time.monotonic() < deadline:
        feed()
        for key, alarm in alarm_states(prefix).items():
            if key in keys and key not in seen and alarm.get("StateValue") == state:
                seen[key] = alarm
        time.sleep(FEED_EVERY_S)
    return seen


def in_state(states: dict[str, dict[str, Any]], keys: set[str], state: str) -> bool:
    return all(states.get(key, {}).get("StateValue") == state for key in keys)


def not_in(states: dict[str, dict[str, Any]], keys: set[str], state: str) -> dict[str, str]:
    return {
        key: states.get(key, {}).get("StateValue", "missing")
        for key in keys
        if states.get(key, {}).get("StateValue") != state
    }


def drain(inbox: str) -> list[dict[str, Any]]:
    """Every notification the inbox received since the last drain (CloudWatch's alarm messages)."""
    found = []
    while True:
        received = client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if not received.get("Messages"):
            return found
        for message in received["Messages"]:
            found.append(json.loads(json.loads(message["Body"])["Message"]))
            client("sqs").delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])


def collect(inbox: str, prefix: str, expected: list[tuple[str, str]], timeout: float = 45) -> list[dict[str, Any]]:
    """The notifications that arrive until every expected page is among them (and 3 s more, so that
    an unexpected extra page is seen too)."""
    pages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not set(expected) <= set(alarm_pages(pages, prefix)) and time.monotonic() < deadline:
        pages += drain(inbox)
    time.sleep(3)
    return pages + drain(inbox)


class Drilling:
    """One stack's drill: its alarms, its real resources, the inbox that reads its pages."""

    def __init__(
        self, stack: Stack, poison: Callable[[], None], good: Callable[[], None], record_age_ms: float, *, kinesis: bool
    ) -> None:
        self.stack, self.poison, self.good, self.kinesis = stack, poison, good, kinesis
        self.name = stack.outputs["function_name"]
        self.prefix = f"{self.name}-"
        self.queue = bool(stack.outputs.get("on_failure_queue_url"))
        self.plan = drills(record_age_ms, queue=self.queue, kinesis=kinesis)
        self.values, self.namespace = real_resources(stack)
        self.synthetic = [d for d in self.plan if d.metric is not None]
        self.healthy = {d.metric: d.healthy for d in self.synthetic if d.metric}
        self.lam = client("lambda")
        self.uuid = self.values["EventSourceMappingUUID"]
        self.pages: dict[str, list[dict[str, Any]]] = {}
        self.inbox = ""

    def wave(self, key: str) -> set[str]:
        return {d.alarm for d in self.plan if d.wave == key}

    def budget(self, keys: set[str], state: str) -> float:
        """How long to wait for ``keys`` to reach ``state``: WAIT_S, and what LocalStack's evaluation
        cadence adds for the slowest of them (lag_s) beyond a minute. The waits end as soon as the
        alarms are there, so a longer budget only costs time when a drill fails."""
        alarms = alarm_states(self.prefix)
        lags = [lag_s(alarms[key], state) for key in keys if "Period" in alarms.get(key, {})]
        return WAIT_S + max([0.0] + [lag - 60 for lag in lags])

    def collect(self, wave: str) -> None:
        self.pages[wave] = collect(
            self.inbox, self.prefix, expected_pages(wave, queue=self.queue, kinesis=self.kinesis)
        )

    def feed_healthy(self) -> None:
        put_series(self.values, self.namespace, self.healthy)
        self.good()

    def check_the_applied_alarms(self) -> set[str]:
        states = alarm_states(self.prefix)
        plain = {key for key, alarm in states.items() if "MetricName" in alarm}
        assert plain == {d.alarm for d in self.plan}, "every plain metric alarm of the stack has a drill, and no more"
        assert {key for key, alarm in states.items() if "Metrics" in alarm and "MetricName" not in alarm} == METRIC_MATH
        assert {key for key, alarm in states.items() if "AlarmRule" in alarm} == set(COMPOSITES)
        check_composites_and_metric_math(self.stack, self.name, self.values, states)
        return plain | set(COMPOSITES)

    def healthy_first(self, every: set[str]) -> None:
        """Every alarm and composite OK (consumer-stopped too: the bridge publishes each poll).

        The failure path starts empty, and each alarm gets the time LocalStack's evaluation needs
        (lag_s): the first evaluation of a new alarm comes up to EvaluationPeriods x Period after
        it was created."""
        empty_failure_path(self.stack)
        budget = self.budget(every, "OK")
        states = feed_until(self.prefix, self.feed_healthy, lambda s: in_state(s, every, "OK"), budget)
        queue = self.stack.outputs.get("on_failure_queue_url")
        assert not_in(states, every, "OK") == {}, {
            "not OK": {k: states.get(k, {}).get("StateReasonData") for k in not_in(states, every, "OK")},
            "queue (visible, in flight)": queue_depth(queue) if queue else None,
        }
        drain(self.inbox)  # the first evaluations' OK notifications

    def wave_a_a_poison_record(self, tmp_path: Path) -> None:
        """It fails (records-failed), is given up to the failure path (on-failure-delivered, real from
        the poller) and, with a queue, waits there until the replay-window alarm fires: the standing
        incident of wave B. Meanwhile an operator looks at it (three redrive dry runs, then an --apply
        killed while it holds the message): the replay-window alarm must still fire on it, and the
        doctor still report its age. Then the poison record's counts stop and its incident closes;
        the failure stays queued."""
        wave_a = self.wave("A")
        looked: list[bool] = []

        def feed() -> None:
            self.feed_healthy()
            self.poison()
            if self.queue and not looked and queue_depth(self.stack.outputs["on_failure_queue_url"])[0]:
                looked.append(True)
                operator_looks_at_the_failure(self.stack, tmp_path)

        seen = feed_until_each(self.prefix, feed, wave_a, "ALARM", self.budget(wave_a, "ALARM"))
        assert set(seen) == wave_a, f"the poison record's alarms: only {sorted(seen)} fired"
        if self.queue:
            assert looked, "the operator's look happened before the replay window closed"
            window = seen["failure-replay-window"]
            # LocalStack reports a few periods before the evaluation range too (oldest first): the
            # range itself, the last EvaluationPeriods of them, held the failure in every period.
            last = evaluated(window)[-window["EvaluationPeriods"] :]
            assert len(last) == window["EvaluationPeriods"], evaluated(window)
            assert all(v >= 1 for v in last), ("presence in every period", evaluated(window))
            doctor_reports_the_age(self.stack, tmp_path)
        self.collect("A")
        closed = {"records-failed", "on-failure-delivered", "failing"}
        budget = self.budget(closed, "OK")
        states = feed_until(self.prefix, self.feed_healthy, lambda s: in_state(s, closed, "OK"), budget)
        assert not_in(states, closed, "OK") == {}

    def wave_b_every_other_incident(self) -> None:
        """While the replay window stands: every other incident at once, the mapping disabled (a real
        stop). Each alarm must show its own incident's value; record-age must stay OK (a 45 s lag is
        not records at risk)."""
        wave_b = self.wave("B") - {"consumer-stopped"}
        points = {**self.healthy, **{d.metric: d.breach for d in self.synthetic if d.wave == "B" and d.metric}}
        self.lam.update_event_source_mapping(UUID=self.uuid, Enabled=False)

        def feed() -> None:
            put_series(self.values, self.namespace, points)
            self.lam.invoke(FunctionName=self.name, Payload=b'{"drill": "not a stream event"}')

        def done(s: dict[str, dict[str, Any]]) -> bool:
            stopped = s.get("consumer-stopped", {}).get("StateValue") == "INSUFFICIENT_DATA"
            return stopped and in_state(s, wave_b, "ALARM")

        # The stop is seen once every datapoint has aged out of LocalStack's look-back, as an OK is.
        budget = max(self.budget(wave_b, "ALARM"), self.budget({"consumer-stopped"}, "INSUFFICIENT_DATA"))
        states = feed_until(self.prefix, feed, done, budget)
        assert states["consumer-stopped"]["StateValue"] == "INSUFFICIENT_DATA", "a disabled mapping stops polling"
        assert not_in(states, wave_b, "ALARM") == {}, "incidents that did not fire"
        assert states["record-age"]["StateValue"] == "OK", "a 45 s lag must not be records at risk"
        for drill in self.synthetic:
            if drill.wave == "B":
                assert caused_by(states[drill.alarm], drill.breach), (drill.alarm, evaluated(states[drill.alarm]))
        assert any(v >= 1 for v in evaluated(states["lambda-errors"])), evaluated(states["lambda-errors"])
        if self.queue:
            assert states["failure-replay-window"]["StateValue"] == "ALARM", "the old failure still stands"
        self.collect("B")
        self.lam.update_event_source_mapping(UUID=self.uuid, Enabled=True)

    def wave_c_records_at_risk(self) -> None:
        """The consumer half the maximum record age behind."""
        (at_risk,) = [d for d in self.plan if d.wave == "C"]
        points = {**self.healthy, at_risk.metric or "": at_risk.breach}
        states = feed_until(
            self.prefix,
            lambda: put_series(self.values, self.namespace, points),
            lambda s: in_state(s, {at_risk.alarm}, "ALARM"),
            self.budget({at_risk.alarm}, "ALARM"),
        )
        assert states[at_risk.alarm]["StateValue"] == "ALARM"
        assert caused_by(states[at_risk.alarm], at_risk.breach), evaluated(states[at_risk.alarm])
        self.collect("C")

    def run(self, tmp_path: Path) -> None:
        every = self.check_the_applied_alarms()
        self.inbox, subscription = subscribe_inbox(self.stack.outputs["sns_topic_arn"], f"{self.name}-drill-inbox")
        try:
            self.healthy_first(every)
            self.wave_a_a_poison_record(tmp_path)
            self.wave_b_every_other_incident()
            self.wave_c_records_at_risk()
            check_pages(self.prefix, self.pages, queue=self.queue, kinesis=self.kinesis)
        finally:
            self.lam.update_event_source_mapping(UUID=self.uuid, Enabled=True)
            client("sns").unsubscribe(SubscriptionArn=subscription)
            client("sqs").delete_queue(QueueUrl=self.inbox)
            empty_failure_path(self.stack)


def operator_looks_at_the_failure(stack: Stack, tmp_path: Path) -> None:
    """Three dry runs (each receives the message: after three, SQS's ApproximateAgeOfOldestMessage
    would skip it), then an --apply killed while it holds the message in flight."""
    outputs = outputs_file(stack, tmp_path)
    for _ in range(3):
        code, dry = operator_json("redrive", outputs)
        assert (code, dry["failures"] >= 1, dry["still_failing"] >= 1) == (1, True, True), dry
    queue = stack.outputs["on_failure_queue_url"]
    with operator("redrive", outputs, "--apply") as run:
        held = wait_for(lambda: queue_depth(queue)[1], lambda n: n > 0, timeout=60, every=0.05)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    assert held > 0, "the killed apply held the message"


def doctor_reports_the_age(stack: Stack, tmp_path: Path) -> None:
    """The doctor still reports the failure's age (ledger or queue depth, not the skipped SQS age)."""
    code, report = operator_json("doctor", outputs_file(stack, tmp_path))
    (finding,) = [
        f for f in report["findings"] if f["area"] == "failure path" and "wait in the on-failure queue" in f["title"]
    ]
    assert "the replay window is closing" in finding["title"], finding
    assert code == 2, report


def alarm_pages(pages: list[dict[str, Any]], prefix: str) -> list[tuple[str, str]]:
    """(alarm key, new state) of each notification that is not an OK (a page, or a stop's INSUFFICIENT_DATA)."""
    return sorted(
        (p["AlarmName"].removeprefix(prefix), p["NewStateValue"])
        for p in pages
        if p.get("AlarmName", "").startswith(prefix) and p.get("NewStateValue") != "OK"
    )


def expected_pages(wave: str, *, queue: bool, kinesis: bool) -> list[tuple[str, str]]:
    """The pages of each wave under the module's paging design, as (alarm key, new state)."""
    if wave == "A":
        # The poison record: on-failure-delivered pages (and the replay window, when the failure waits
        # in a queue); `failing` too here, because LocalStack does not apply its suppressor (checked
        # against the applied alarm: in AWS it waits for on-failure-delivered and stays quiet).
        return sorted(
            [("failing", "ALARM"), ("on-failure-delivered", "ALARM")]
            + ([("failure-replay-window", "ALARM")] if queue else [])
        )
    if wave == "B":
        # While the replay window stands: the failing function (one page for its class), the lost
        # records (one page for two alarms), the stopped consumer (as INSUFFICIENT_DATA), the consumer
        # falling behind (one page for its class), the throttled producers and readers (once per stream).
        found = [
            ("behind", "ALARM"),
            ("consumer-stopped", "INSUFFICIENT_DATA"),
            ("failing", "ALARM"),
            ("lost", "ALARM"),
        ]
        if kinesis:
            found += [("kinesis-read-throughput-exceeded", "ALARM"), ("kinesis-write-throughput-exceeded", "ALARM")]
        return sorted(found)
    # Records at risk pages on its own, although `behind` stands for the same lag.
    return [("record-age", "ALARM")]


def check_pages(prefix: str, waves: dict[str, list[dict[str, Any]]], *, queue: bool, kinesis: bool) -> None:
    """One page per incident, and a new loss-class incident pages while an old one stands."""
    for wave, pages in waves.items():
        assert alarm_pages(pages, prefix) == expected_pages(wave, queue=queue, kinesis=kinesis), (
            wave,
            alarm_pages(pages, prefix),
        )
    members = {m for ms in COMPOSITES.values() for m in ms}
    paged = {key for pages in waves.values() for key, _ in alarm_pages(pages, prefix)}
    assert not paged & members, "a member of a composite paged on its own"
    for pages in waves.values():
        for page in pages:
            assert "What to do" in page["AlarmDescription"], page["AlarmName"]
            assert "docs/RUNBOOK.md" in page["AlarmDescription"], page["AlarmName"]


def check_composites_and_metric_math(
    stack: Stack, name: str, values: dict[str, str], states: dict[str, dict[str, Any]]
) -> None:
    """The composites' rules and the suppressor (stored, not applied, by LocalStack), and the
    metric-math alarm's inputs (not evaluated by LocalStack), against the applied resources."""
    arn = {key: alarm["AlarmArn"] for key, alarm in states.items()}
    for composite, members in COMPOSITES.items():
        present = {m for m in members if m in arn}
        rule = states[composite]["AlarmRule"]
        assert set(rule.split(" OR ")) == {f'ALARM("{arn[m]}")' for m in present}
        assert states[composite]["AlarmActions"] == [stack.outputs["sns_topic_arn"]]
    failing = states["failing"]
    assert failing["ActionsSuppressor"] == f"{name}-on-failure-delivered"
    assert (failing["ActionsSuppressorWaitPeriod"], failing["ActionsSuppressorExtensionPeriod"]) == (20, 10)
    for key, alarm in states.items():
        if "MetricName" in alarm or key in METRIC_MATH:
            assert bool(alarm["AlarmActions"]) == (key in DIRECT), (key, alarm["AlarmActions"])

    sink_alarm = states["sink-write-throttles"]
    queries = {q["Id"]: q for q in sink_alarm["Metrics"]}
    assert queries["e"]["Expression"] == "FILL(m, 0)"
    assert queries["e"]["ReturnData"] is True
    stat = queries["m"]["MetricStat"]
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == ("AWS/DynamoDB", "WriteThrottleEvents")
    assert stat["Metric"]["Dimensions"] == [{"Name": "TableName", "Value": values["TableName"]}]


def kinesis_drill(stack: Stack, tmp_path: Path) -> None:
    kinesis = client("kinesis")
    stream = stack.outputs["stream_name"]
    second = iter(range(1, 10_000))
    poisoned: list[bool] = []

    def poison() -> None:
        if not poisoned:  # one poison record: one failure waiting in the queue
            kinesis.put_record(StreamName=stream, Data=b"\xff drill poison", PartitionKey="drill")
            poisoned.append(True)

    def good() -> None:
        kinesis.put_record(StreamName=stream, Data=json.dumps(telemetry(1, next(second), race=777)), PartitionKey="1")

    Drilling(stack, poison, good, RECORD_AGE_S * 1000, kinesis=True).run(tmp_path)


def dynamodb_drill(stack: Stack, tmp_path: Path) -> None:
    dynamodb = client("dynamodb")
    table = stack.outputs["source_table_name"]
    count = iter(range(1, 10_000))
    poisoned: list[bool] = []

    def poison() -> None:
        # A change larger than the handler's 64 KiB MAX_RECORD_BYTES: poison for the audit processor.
        if not poisoned:
            dynamodb.put_item(TableName=table, Item={"id": {"S": f"big-{next(count)}"}, "blob": {"S": "x" * 80_000}})
            poisoned.append(True)

    def good() -> None:
        dynamodb.put_item(TableName=table, Item={"id": {"S": f"drill-{next(count)}"}, "total": {"N": "1"}})

    Drilling(stack, poison, good, DEFAULT_RECORD_AGE_MS, kinesis=False).run(tmp_path)


THREADS = BACKGROUND  # the drills' threads are named so: aws_calls.recording() leaves their calls out
WORKSPACE = "integration-drills"


def stacks() -> tuple[Stack, Stack]:
    """The drills' own stacks: the two examples under names of their own, in a workspace of their own."""
    return (
        Stack("kinesis-alleycat", "dr-alleycat", f"maximum_record_age_seconds={RECORD_AGE_S}", workspace=WORKSPACE),
        Stack("dynamodb-streams", "dr-ddb", workspace=WORKSPACE),
    )


def applied_then_drilled(stack: Stack, drill: Callable[[Stack, Path], None], tmp_path: Path) -> None:
    stack.apply()
    drill(stack, tmp_path)


def start(kinesis_stack: Stack, dynamodb_stack: Stack, tmp_path: Path) -> tuple[ThreadPoolExecutor, list[Future[None]]]:
    """Both drills at once, each applying its stack and then drilling it (their alarms, metrics and
    resources are apart), in threads beside the rest of the tier: the drills are mostly waiting for
    LocalStack's alarm evaluation. The caller destroys the stacks once the futures are done."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=THREADS)
    return pool, [
        pool.submit(applied_then_drilled, kinesis_stack, kinesis_drill, tmp_path),
        pool.submit(applied_then_drilled, dynamodb_stack, dynamodb_drill, tmp_path),
    ]
