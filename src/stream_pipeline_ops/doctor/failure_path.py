"""The failure path: batches Lambda gave up, waiting in the on-failure queue or the archive, and
how old the oldest is, against the time its records stay readable.

The age of the oldest queued failure must survive an operator's look. SQS's
ApproximateAgeOfOldestMessage skips a message once it has been received three times ("the
ApproximateAgeOfOldestMessage metric points at the second-oldest message"), so a few redrive
dry runs made the doctor under-report. The age is the largest of three sources, and the
evidence says which one gave it:

- the metric, as before;
- the redrive ledger's oldest open failure entry (``failed_at``, else ``sent_at``), written the
  first time redrive reads a failure, dry run included;
- how long the queue has held messages without a break: the Maximum of
  ApproximateNumberOfMessagesVisible + NotVisible per minute, which receives do not perturb.

An archive object keeps its records and is never touched by a read, so its LastModified is the
age, weighed against the bucket's expiration rather than the stream's retention.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline_ops.doctor.reader import PERIOD_S, MetricKey, Reader, aware, metric_key
from stream_pipeline_ops.doctor.report import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stream_pipeline_ops.doctor.context import Context

AREA: Final = "failure path"
ARCHIVE_PREFIX: Final = "aws/lambda/"
ARCHIVE_PAGES: Final = 20  # 20,000 objects are enough to say how many and how old
LEDGER_SUFFIX: Final = "-redrive-ledger"
FIX: Final = "read why in the log group, fix the cause, then: stream-pipeline redrive (a dry run), then --apply"
QUEUE_DEPTH: Final = ("ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible")


def planned(ctx: Context) -> list[MetricKey]:
    queue = ctx.failure_queue
    if queue is None:
        return []
    return [
        metric_key("AWS/SQS", name, {"QueueName": queue}, "Maximum")
        for name in ("ApproximateAgeOfOldestMessage", *QUEUE_DEPTH)
    ]


def check_failure_path(read: Reader, ctx: Context) -> None:
    if ":s3:" in ctx.failure_destination:
        check_archive(read, ctx.failure_destination.rsplit(":", 1)[-1])
        return
    queue = ctx.failure_queue
    if queue is None:
        return
    url = read.call(AREA, f"queue {queue}", "sqs:GetQueueUrl", "sqs", "get_queue_url", QueueName=queue)
    if url is None:
        return
    attributes = read.call(
        AREA,
        f"queue {queue}",
        "sqs:GetQueueAttributes",
        "sqs",
        "get_queue_attributes",
        QueueUrl=url["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    if attributes is None:
        return
    read.report.checked.append(AREA)
    values = attributes.get("Attributes", {})
    in_flight = int(values.get("ApproximateNumberOfMessagesNotVisible", 0))
    waiting = int(values.get("ApproximateNumberOfMessages", 0)) + in_flight  # in flight is waiting too
    if waiting == 0:
        return
    ages = [*metric_age(read, queue), *held_age(read, queue), *ledger_age(read, ctx)]
    window = ctx.replay_window_s
    if ages:
        oldest, source, _ = max(ages, key=lambda age: age[0])
        age_text = f"oldest {oldest:,.0f} s by {source} ({', '.join(detail for _, _, detail in ages)})"
    else:
        oldest, age_text = 0.0, "the oldest's age is not published yet"
    at_risk = window is not None and oldest >= 0.5 * window
    read.report.add(
        Severity.CRITICAL if at_risk else Severity.WARNING,
        AREA,
        f"{waiting} failed batch(es) wait in the on-failure queue"
        + (": the replay window is closing" if at_risk else ""),
        f"{queue}: {waiting} message(s)"
        + (f" ({in_flight} in flight)" if in_flight else "")
        + f", {age_text}"
        + (f"; records are sure to stay in the stream {window:,} s after they fail" if window is not None else ""),
        FIX,
    )


Age = tuple[float, str, str]
"""(seconds, the source's name, what it read)."""


def metric_age(read: Reader, queue: str) -> Iterator[Age]:
    values = read.metric("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue}, "Maximum")
    if values:
        yield max(values), "ApproximateAgeOfOldestMessage", f"ApproximateAgeOfOldestMessage {max(values):,.0f} s"


def held_age(read: Reader, queue: str) -> Iterator[Age]:
    """Since when the queue has held messages in every minute up to the latest one published."""
    depth: defaultdict[datetime, float] = defaultdict(float)
    for name in QUEUE_DEPTH:
        for at, value in read.series("AWS/SQS", name, {"QueueName": queue}, "Maximum"):
            depth[at] += value
    times = sorted(depth)
    if not times or depth[times[-1]] <= 0:
        return
    start = times[-1]
    for at in reversed(times):
        if depth[at] <= 0:
            break
        start = at
    whole = start == times[0] and start <= read.start + timedelta(seconds=PERIOD_S)
    seconds = (read.now - start).total_seconds()
    detail = f"messages held without a break {'for the whole window, ' if whole else ''}since {start:%H:%M} UTC"
    yield seconds, "the queue's depth", detail


def ledger_table(ctx: Context) -> str | None:
    """The outputs' ``redrive_ledger_table_arn`` (or a name), else ``<pipeline name>-redrive-ledger``,
    the pipeline named by the function's PIPELINE_NAME (every consumer's function has it; a function
    of an older release has only POWERTOOLS_SERVICE_NAME, which was the pipeline's name)."""
    if ctx.ledger_table:
        return ctx.ledger_table.rsplit(":table/", 1)[-1]
    pipeline = ctx.environment.get("PIPELINE_NAME") or ctx.environment.get("POWERTOOLS_SERVICE_NAME")
    return f"{pipeline}{LEDGER_SUFFIX}" if pipeline else None


def ledger_age(read: Reader, ctx: Context) -> Iterator[Age]:
    """The oldest open failure entry (pk ``FAILURE#<function>``): a Query of the function's own
    partition, filtered to ``status = open``, only the two timestamps projected. The MACs are
    not verified here: an entry can only raise the age the doctor reports (it takes the
    largest), never hide a failure the queue's metrics show; redrive verifies each one it uses."""
    table = ledger_table(ctx)
    if table is None:
        return
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk",
        "FilterExpression": "#status = :open",
        "ProjectionExpression": "#failed, #sent",
        "ExpressionAttributeNames": {"#pk": "pk", "#status": "status", "#failed": "failed_at", "#sent": "sent_at"},
        "ExpressionAttributeValues": {":pk": {"S": f"FAILURE#{ctx.function_name}"}, ":open": {"S": "open"}},
    }
    times: list[datetime] = []
    unreadable = 0
    while True:
        page = read.call(
            AREA,
            f"the redrive ledger {table}",
            "dynamodb:Query",
            "dynamodb",
            "query",
            absent=("ResourceNotFoundException",),
            **kwargs,
        )
        if page is None:
            return  # denied or failed: the finding says so
        if page == {}:
            read.report.add(
                Severity.INFO,
                AREA,
                "there is no redrive ledger: the age of a failure someone has looked at may be under-reported",
                f"{table}: ResourceNotFoundException",
                "upgrade the module (0.3.0 creates the ledger) and re-apply, or pass the stack's outputs; until then "
                "the age comes from the queue's metrics alone",
            )
            return
        for item in page.get("Items", []):
            moment = parse_time(item.get("failed_at") or item.get("sent_at"))
            if moment is None:
                unreadable += 1
            else:
                times.append(moment)
        if not page.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if times:
        oldest = min(times)
        skipped = f"; {unreadable} without a readable failed_at" if unreadable else ""
        detail = f"the redrive ledger's oldest of {len(times)} open failure(s) failed at {oldest:%Y-%m-%d %H:%M} UTC"
        yield (read.now - oldest).total_seconds(), "the redrive ledger", detail + skipped


def parse_time(attribute: dict[str, Any] | None) -> datetime | None:
    """An ISO time in a DynamoDB string attribute, with its zone (UTC when it names none)."""
    text = (attribute or {}).get("S")
    if not isinstance(text, str):
        return None
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        return None


def check_archive(read: Reader, bucket: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": ARCHIVE_PREFIX}
    archived, complete = 0, True
    dates: list[datetime] = []
    for _ in range(ARCHIVE_PAGES):
        found = read.call(AREA, f"the failure archive {bucket}", "s3:ListBucket", "s3", "list_objects_v2", **kwargs)
        if found is None:
            return
        contents = found.get("Contents", [])
        archived += int(found.get("KeyCount", len(contents)))
        dates.extend(aware(item["LastModified"]) for item in contents if "LastModified" in item)
        if not found.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = found["NextContinuationToken"]
    else:
        complete = False
    oldest = min(dates, default=None)
    read.report.checked.append(AREA)
    if not archived:
        return
    age_s = (read.now - oldest).total_seconds() if oldest else 0.0
    days = archive_expiry_days(read, bucket)
    at_risk = days is not None and age_s >= 0.5 * days * 86400
    count = f"{archived}" if complete else f"more than {archived}"
    read.report.add(
        Severity.CRITICAL if at_risk else Severity.WARNING,
        AREA,
        f"{count} failed batch(es) wait in the failure archive" + (": the oldest expire soon" if at_risk else ""),
        f"s3://{bucket}/{ARCHIVE_PREFIX}: {count} object(s), each with its records"
        + (f", oldest {age_s:,.0f} s (LastModified {oldest:%Y-%m-%d %H:%M} UTC)" if oldest else "")
        + (
            f"; the bucket expires them {days} day(s) ({days * 86400:,} s) after they fail"
            if days is not None
            else "; the bucket keeps them until deleted"
        ),
        FIX,
    )


def archive_expiry_days(read: Reader, bucket: str) -> int | None:
    """The shortest enabled expiration that covers the archive's prefix, if any."""
    found = read.call(
        AREA,
        f"the failure archive's lifecycle {bucket}",
        "s3:GetLifecycleConfiguration",
        "s3",
        "get_bucket_lifecycle_configuration",
        absent=("NoSuchLifecycleConfiguration",),
        Bucket=bucket,
    )
    days = [int(rule["Expiration"]["Days"]) for rule in (found or {}).get("Rules", []) if covers_archive(rule)]
    return min(days, default=None)


def covers_archive(rule: dict[str, Any]) -> bool:
    """An enabled rule that expires objects after some days, for every key under the archive's
    prefix (a rule filtered by tag or size covers only some)."""
    if rule.get("Status") != "Enabled" or "Days" not in rule.get("Expiration", {}):
        return False
    selected = rule.get("Filter", {})
    if set(selected) - {"Prefix"}:
        return False
    return ARCHIVE_PREFIX.startswith(selected.get("Prefix", rule.get("Prefix", "")))
