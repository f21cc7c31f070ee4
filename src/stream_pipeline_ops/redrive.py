"""``stream-pipeline redrive``: bring the records in the failure path back through the pipeline.

For each failure (an on-failure queue message, or a failure archive object in S3):

1. fetch its records: from the archive object, which holds them, or from the stream by shard and
   sequence range; records the stream no longer holds are *expired*, and the failure is kept;
2. check each record with the deployed processor's own validation (the function's environment:
   ``RECORD_PROCESSOR``, ``MAX_RECORD_BYTES``), so the dry run (the default) says which records
   would now pass and which still fail, with the reasons the handler logs;
3. with ``--apply``, put the passing records back exactly once: Kinesis records into the stream
   with their original partition keys, DynamoDB Streams records (which cannot be written back) by
   invoking the function with them. A ledger in the sink table, keyed by the original shard and
   sequence number, is claimed before each put and confirmed after it, so a redrive interrupted
   and run again puts nothing twice; a record claimed but never confirmed (the process died
   between the two) is reported *in doubt* and left alone. ``--discard SEQUENCE --reason TEXT``
   records a decision not to redrive a record, in the ledger and in a file;
4. remove the queue message, or move the archive object under ``redriven/``, only when every one
   of its records was put back or discarded.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from stream_pipeline import processors
from stream_pipeline.config import load_settings
from stream_pipeline.records import PoisonRecord, SourceType, from_raw
from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from collections.abc import Callable

ARCHIVE_PREFIX: Final = "aws/lambda/"
DONE_PREFIX: Final = "redriven/"
EXPIRED_ERRORS: Final = ("TrimmedDataAccessException", "ExpiredIteratorException", "InvalidArgumentException")
BATCH_GET_LIMIT: Final = 100
UNPROCESSED_TRIES: Final = 8


class RedriveError(Exception):
    """The redrive cannot start; the message says what to do."""


@dataclass
class Failure:
    """One batch in the failure path."""

    origin: str  # "queue" or "archive"
    handle: str  # the receipt handle, or the object key
    info: dict[str, Any]  # KinesisBatchInfo / DDBStreamBatchInfo
    records: list[dict[str, Any]] | None = None  # the archive carries them; the queue does not


@dataclass
class Summary:
    failures: int = 0
    fetched: int = 0
    would_pass: int = 0
    reput: int = 0
    still_failing: int = 0
    discarded: int = 0
    expired: int = 0
    already_done: int = 0
    in_doubt: int = 0
    unreadable: int = 0
    closed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """The deployed pipeline, read from its function."""

    function_name: str
    source_arn: str
    destination_arn: str
    environment: dict[str, str]
    ledger_table: str | None

    @property
    def kinesis(self) -> bool:
        return ":kinesis:" in self.source_arn


def discover(client: Callable[[str], Any], function_name: str, ledger_table: str | None) -> Target:
    lam = client("lambda")
    try:
        function = lam.get_function_configuration(FunctionName=function_name)
        mappings = lam.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    except ClientError as exc:
        raise RedriveError(
            f"Cannot read function {function_name}: {exc.response['Error'].get('Message', exc)}"
        ) from None
    streams = [m for m in mappings if ":sqs:" not in m.get("EventSourceArn", "")]
    if not streams:
        raise RedriveError(f"{function_name} has no stream event source mapping: nothing to redrive into.")
    destination = streams[0].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if not destination:
        raise RedriveError(
            f"{function_name}'s mapping has no on-failure destination: there is no failure path to read."
        )
    environment = function.get("Environment", {}).get("Variables", {})
    return Target(
        function_name=function_name,
        source_arn=streams[0]["EventSourceArn"],
        destination_arn=destination,
        environment=environment,
        ledger_table=ledger_table or environment.get("SINK_TABLE_NAME"),
    )


# ------------------------------------------------------------------------------------ reading
def read_failures(client: Callable[[str], Any], target: Target, limit: int = 1000, hide_s: int = 900) -> list[Failure]:
    if ":sqs:" in target.destination_arn:
        return read_queue(client("sqs"), target.destination_arn, limit, hide_s)
    if ":s3:" in target.destination_arn:
        return read_archive(client("s3"), target.destination_arn.rsplit(":", 1)[-1], limit)
    raise RedriveError(f"The on-failure destination {target.destination_arn} is neither a queue nor a bucket.")


def batch_info(document: dict[str, Any]) -> dict[str, Any]:
    info = document.get("KinesisBatchInfo") or document.get("DDBStreamBatchInfo")
    if not isinstance(info, dict):
        raise TypeError("no KinesisBatchInfo or DDBStreamBatchInfo")
    result: dict[str, Any] = info
    return result


def read_queue(sqs: Any, queue_arn: str, limit: int, hide_s: int) -> list[Failure]:
    """Receive every message once; they stay hidden while the run works on them (``hide_s``), and
    those it does not close are made visible again at the end (:func:`release`)."""
    url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
    found: list[Failure] = []
    seen: set[str] = set()
    while len(found) < limit:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=hide_s, WaitTimeSeconds=1)
        fresh = [m for m in page.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            document = json.loads(message["Body"])
            found.append(Failure("queue", message["ReceiptHandle"], batch_info(document)))
    for failure in found:
        failure.info["_queue_url"] = url
    return found


def read_archive(s3: Any, bucket: str, limit: int) -> list[Failure]:
    found: list[Failure] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARCHIVE_PREFIX):
        for item in page.get("Contents", []):
            document = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            records = document.get("payload", {}).get("Records", [])
            found.append(Failure("archive", item["Key"], {**batch_info(document), "_bucket": bucket}, records))
            if len(found) >= limit:
                return found
    return found


def fetch_from_stream(client: Callable[[str], Any], failure: Failure) -> tuple[list[dict[str, Any]], bool]:
    """The failure's records from the stream, in Lambda's event shape, and whether some expired."""
    info = failure.info
    start, end = info["startSequenceNumber"], int(info["endSequenceNumber"])
    kinesis = ":kinesis:" in info["streamArn"]
    api = client("kinesis") if kinesis else client("dynamodbstreams")
    try:
        if kinesis:
            iterator = api.get_shard_iterator(
                StreamName=kinesis_stream_name(info["streamArn"]), ShardId=info["shardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=start,
            )["ShardIterator"]  # fmt: skip
        else:
            iterator = api.get_shard_iterator(
                StreamArn=info["streamArn"], ShardId=info["shardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=start,
            )["ShardIterator"]  # fmt: skip
    except ClientError as exc:
        if exc.response["Error"]["Code"] in (*EXPIRED_ERRORS, "ResourceNotFoundException"):
            return [], True
        raise

    def sequence(raw: dict[str, Any]) -> int:
        return int(raw["SequenceNumber"] if kinesis else raw["dynamodb"]["SequenceNumber"])

    records: list[dict[str, Any]] = []
    for _ in range(1000):  # bounded: a range is at most one batch of 10,000 records
        page = api.get_records(ShardIterator=iterator, Limit=1000)
        raws = page.get("Records", [])
        records += [as_event_record(raw, info) if kinesis else raw for raw in raws if sequence(raw) <= end]
        iterator = page.get("NextShardIterator")
        if not raws or sequence(raws[-1]) >= end or not iterator:
            break
    expected = int(info.get("batchSize", len(records)))
    return records, len(records) < expected or (records != [] and sequence_of(records[0]) != start)


def as_event_record(raw: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers it (and the handler reads)."""
    arrival = raw.get("ApproximateArrivalTimestamp")
    return {
        "eventSource": "aws:kinesis",
        "eventSourceARN": info["streamArn"],
        "eventID": f"{info['shardId']}:{raw['SequenceNumber']}",
        "kinesis": {
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
        },
    }


def sequence_of(record: dict[str, Any]) -> str:
    body = record.get("kinesis") or record.get("dynamodb") or {}
    return str(body.get("sequenceNumber") or body.get("SequenceNumber") or "")


# ------------------------------------------------------------------------------------ checking
def checker(target: Target, check: bool) -> Callable[[dict[str, Any]], str | None]:
    """The deployed processor's validation: None when a record would pass, else the reason."""
    if not check:
        return lambda _record: None
    env = {k: v for k, v in target.environment.items() if k != "SINK_TABLE_NAME"}
    try:
        settings = load_settings(env)
        processor = processors.build(settings, SourceType.KINESIS if target.kinesis else SourceType.DYNAMODB)
    except (ImportError, TypeError, ValueError) as exc:
        raise RedriveError(
            f"Cannot load the deployed processor here ({exc}); install it, or pass --no-check."
        ) from None

    def reason(record: dict[str, Any]) -> str | None:
        try:
            processor.parse(from_raw(0, record))
        except PoisonRecord as exc:
            return str(exc)
        return None

    return reason


# ------------------------------------------------------------------------------------ ledger
class Ledger:
    """Claims in a DynamoDB table (pk/sk strings): ``REDRIVE#<stream>`` / ``<shard>#<sequence>``."""

    def __init__(self, dynamodb: Any, table: str, stream_arn: str) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.pk = f"REDRIVE#{stream_arn}"

    def key(self, shard: str, sequence: str) -> dict[str, Any]:
        return {"pk": {"S": self.pk}, "sk": {"S": f"{shard}#{sequence}"}}

    def status(self, shard: str, sequence: str) -> str | None:
        return self.statuses(shard, [sequence]).get(sequence)

    def statuses(self, shard: str, sequences: list[str]) -> dict[str, str]:
        """The ledger status of each record that has an entry: one consistent BatchGetItem per 100
        records, its unprocessed keys asked again (with backoff) until none is left."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(sequences))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            keys = [self.key(shard, sequence) for sequence in unique[start : start + BATCH_GET_LIMIT]]
            for attempt in range(UNPROCESSED_TRIES):
                response = self.dynamodb.batch_get_item(
                    RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in response.get("Responses", {}).get(self.table, []):
                    found[item["sk"]["S"].removeprefix(f"{shard}#")] = str(item["status"]["S"])
                keys = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise RedriveError(
                    f"The ledger table {self.table} kept {len(keys)} keys unprocessed after {UNPROCESSED_TRIES} "
                    "tries (throttled); run again later."
                )
        return found

    def claim(self, shard: str, sequence: str, status: str = "claimed", note: str = "") -> bool:
        """True when this run now owns the record; False when a ledger entry exists already."""
        item = {**self.key(shard, sequence), "status": {"S": status}, "at": {"S": datetime.now(tz=UTC).isoformat()}}
        if note:
            item["note"] = {"S": note}
        try:
            self.dynamodb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def confirm(self, shard: str, sequence: str, new_sequence: str) -> None:
        self.dynamodb.update_item(
            TableName=self.table, Key=self.key(shard, sequence),
            UpdateExpression="SET #s = :done, new_sequence = :n",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "done"}, ":n": {"S": new_sequence}},
        )  # fmt: skip

    def release(self, shard: str, sequence: str) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key=self.key(shard, sequence))


# ------------------------------------------------------------------------------------ the run
@dataclass
class Options:
    apply: bool = False
    check: bool = True
    discard: frozenset[str] = frozenset()
    reason: str = ""
    discard_log: Path = Path("redrive-discarded.jsonl")
    hide_s: int = 900  # with --apply, how long received queue messages stay hidden from other readers


def redrive(
    client: Callable[[str], Any],
    target: Target,
    options: Options,
    progress: Callable[[Failure], None] = lambda _f: None,
) -> Summary:
    if options.apply and target.ledger_table is None:
        raise RedriveError("--apply needs a ledger table: the function has no SINK_TABLE_NAME; pass --ledger-table.")
    if options.discard and not options.reason:
        raise RedriveError("--discard needs --reason: say why these records are given up.")
    ledger = Ledger(client("dynamodb"), target.ledger_table, target.source_arn) if target.ledger_table else None
    reason_of = checker(target, options.check)
    summary = Summary()
    for failure in read_failures(client, target, hide_s=options.hide_s if options.apply else 30):
        summary.failures += 1
        settled = redrive_failure(
            client=client, target=target, options=options, ledger=ledger, reason_of=reason_of,
            failure=failure, summary=summary,
        )  # fmt: skip
        if settled and options.apply:
            close(client, failure)
            summary.closed += 1
        else:
            release(client, failure)
        progress(failure)
    return summary


def redrive_failure(
    *,
    client: Callable[[str], Any],
    target: Target,
    options: Options,
    ledger: Ledger | None,
    reason_of: Callable[[dict[str, Any]], str | None],
    failure: Failure,
    summary: Summary,
) -> bool:
    """Redrive one failure; True when every one of its records is now put back or discarded."""
    needed = ("shardId", "startSequenceNumber", "endSequenceNumber", "streamArn")
    if failure.records is None and not all(isinstance(failure.info.get(k), str) for k in needed):
        summary.unreadable += 1  # not Lambda's failure record: kept for a person to look at
        return False
    records, expired = (failure.records, False) if failure.records is not None else fetch_from_stream(client, failure)
    summary.fetched += len(records)
    if expired:
        summary.expired += max(int(failure.info.get("batchSize", 0)) - len(records), 1)
    passing, settled = sort_records(
        records=records, shard=failure.info["shardId"], options=options, ledger=ledger, reason_of=reason_of,
        summary=summary,
    )  # fmt: skip
    if passing and options.apply and ledger is not None:
        put_back = put_kinesis if target.kinesis else invoke_function
        done, failed = put_back(client, target, ledger, failure.info["shardId"], passing)
        summary.reput += done
        settled = settled and failed == 0
    elif passing:
        settled = False  # a dry run changes nothing
    return settled and not expired


def sort_records(
    *,
    records: list[dict[str, Any]],
    shard: str,
    options: Options,
    ledger: Ledger | None,
    reason_of: Callable[[dict[str, Any]], str | None],
    summary: Summary,
) -> tuple[list[dict[str, Any]], bool]:
    """The records to put back, and whether all the others are settled (done or discarded)."""
    passing: list[dict[str, Any]] = []
    settled = True
    states = ledger.statuses(shard, [sequence_of(record) for record in records]) if ledger else {}
    for record in records:
        sequence = sequence_of(record)
        state = states.get(sequence)
        if state in ("done", "discarded"):
            summary.already_done += 1
        elif state == "claimed":
            summary.in_doubt += 1
            settled = False
        elif sequence in options.discard:
            summary.discarded += 1
            if options.apply and ledger is not None and ledger.claim(shard, sequence, "discarded", options.reason):
                entry = {"shard": shard, "sequence": sequence, "reason": options.reason, "record": record}
                with options.discard_log.open("a") as log:
                    log.write(json.dumps(entry) + "\n")
            settled = settled and options.apply
        elif (why := reason_of(record)) is not None:
            summary.still_failing += 1
            summary.reasons[why] = summary.reasons.get(why, 0) + 1
            settled = False
        else:
            summary.would_pass += 1
            passing.append(record)
    return passing, settled


def put_kinesis(
    client: Callable[[str], Any], target: Target, ledger: Ledger, shard: str, records: list[dict[str, Any]]
) -> tuple[int, int]:
    kinesis = client("kinesis")
    done = failed = 0
    for record in records:
        sequence = sequence_of(record)
        if not ledger.claim(shard, sequence):
            failed += 1
            continue
        try:
            put = kinesis.put_record(
                StreamName=kinesis_stream_name(target.source_arn), PartitionKey=record["kinesis"]["partitionKey"],
                Data=base64.b64decode(record["kinesis"]["data"]),
            )  # fmt: skip
        except ClientError:
            ledger.release(shard, sequence)  # nothing was put: the next run may try again
            failed += 1
            continue
        ledger.confirm(shard, sequence, put["SequenceNumber"])
        done += 1
    return done, failed


def invoke_function(
    client: Callable[[str], Any], target: Target, ledger: Ledger, shard: str, records: list[dict[str, Any]]
) -> tuple[int, int]:
    """DynamoDB Streams cannot be written to: the records go to the function itself, as an event."""
    claimed = [r for r in records if ledger.claim(shard, sequence_of(r))]
    if not claimed:
        return 0, len(records)
    response = client("lambda").invoke(FunctionName=target.function_name, Payload=json.dumps({"Records": claimed}))
    body = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        for record in claimed:
            ledger.release(shard, sequence_of(record))
        return 0, len(records)
    failed_ids = {f.get("itemIdentifier") for f in body.get("batchItemFailures", [])}
    done = 0
    for record in claimed:
        sequence = sequence_of(record)
        if sequence in failed_ids:
            ledger.release(shard, sequence)
        else:
            ledger.confirm(shard, sequence, f"invoked:{response.get('ResponseMetadata', {}).get('RequestId', '')}")
            done += 1
    return done, len(records) - done


def release(client: Callable[[str], Any], failure: Failure) -> None:
    """Leave a failure that stays as it was found: a queue message visible again at once."""
    if failure.origin == "queue":
        client("sqs").change_message_visibility(
            QueueUrl=failure.info["_queue_url"], ReceiptHandle=failure.handle, VisibilityTimeout=0
        )


def close(client: Callable[[str], Any], failure: Failure) -> None:
    if failure.origin == "queue":
        client("sqs").delete_message(QueueUrl=failure.info["_queue_url"], ReceiptHandle=failure.handle)
    else:
        s3, bucket = client("s3"), failure.info["_bucket"]
        s3.copy_object(
            Bucket=bucket, Key=DONE_PREFIX + failure.handle, CopySource={"Bucket": bucket, "Key": failure.handle}
        )
        s3.delete_object(Bucket=bucket, Key=failure.handle)
