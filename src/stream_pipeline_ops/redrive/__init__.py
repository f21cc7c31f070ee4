"""``stream-pipeline redrive``: bring the records in the failure path back through the pipeline.

It acts on the stack's own resources only: the stream, the function, the failure path and the
ledger named by the stack's ``stream_pipeline`` output (or discovered from ``--function``), never
on a stream, shard or place a failure message names. For each item in the failure path (an
on-failure queue message, or a failure archive object in S3):

1. check that it is one of this stack's failures (a Lambda invocation record naming this stack's
   stream and function, a shard, a sequence range and a batchSize that fit together); anything
   else is *foreign*: reported, made visible again at once, left where it was;
2. note it in the ledger as an open failure (dry run included), so the doctor can tell the age
   of the oldest open failure whatever the queue's metrics say;
3. fetch its records: from the archive object, which holds them, or from the stack's own stream by
   shard and sequence range, at most batchSize of them and none past the end; records the stream
   no longer holds are *expired*, and the failure is kept;
4. check each record with the deployed processor's own validation, so the dry run (the default)
   says which records would now pass and which still fail, with the reasons the handler logs;
5. with ``--apply``, put the passing records back exactly once: Kinesis records into the stream
   with their original bytes and partition keys, DynamoDB Streams records by invoking the
   function with them. The ledger (its own table, every item MACed with a KMS key the function
   cannot use) is claimed before each put and confirmed after it: a redrive interrupted and run
   again puts nothing twice; a record claimed but never confirmed is *in doubt* and left alone
   until ``--settle SEQUENCE --as done|retry --reason TEXT`` (after checking the sink and the
   stream). A ledger entry whose MAC does not verify is *forged*: reported, never trusted.
   ``--discard SEQUENCE --reason TEXT`` gives a record up on purpose;
6. remove the queue message, or move the archive object under ``redriven/``, and close its
   ledger entry, only when every one of its records was put back, discarded or settled.

A dry run hides no message (it receives with VisibilityTimeout 0); ``--apply`` hides each for 30 s,
renewed while it works, so an interrupted run leaves none hidden longer than that. Payloads never
reach a file unless asked: ``--discard-log FILE`` records keys and digests, ``--keep-payload`` the
records too.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Self

from botocore.exceptions import ClientError

from stream_pipeline_ops.redrive.checking import checker, digest_source
from stream_pipeline_ops.redrive.ledger import Entry, Ledger, Macs, now
from stream_pipeline_ops.redrive.putback import PutResult, describe, invoke_function, put_kinesis
from stream_pipeline_ops.redrive.reading import (
    DONE_PREFIX,
    HOLD_S,
    SEQUENCE,
    Failure,
    Foreign,
    Holder,
    NotOurs,
    fetch_from_stream,
    quoted,
    read_archive,
    read_queue,
    sequence_of,
    shown,
)
from stream_pipeline_ops.redrive.target import RedriveError, RequestError, Target, discover, from_stack

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = [
    "Foreign",
    "Options",
    "RedriveError",
    "RequestError",
    "Summary",
    "Target",
    "discover",
    "from_stack",
    "redrive",
    "shown",
]

REASON_LIMIT: Final = 500
LISTED: Final = 50  # items of each list a summary keeps (its counts are exact)


@dataclass(frozen=True)
class Options:
    apply: bool = False
    check: bool = True
    discard: frozenset[str] = frozenset()
    settle: frozenset[str] = frozenset()
    settle_as: str | None = None  # "done" or "retry"
    reason: str = ""
    discard_log: Path | None = None
    keep_payload: bool = False
    hold_s: int = HOLD_S
    limit: int = 1000

    def validate(self) -> None:
        """Refuse a contradictory or unsafe request before anything is read."""
        if (self.discard or self.settle) and not self.reason.strip():
            raise RequestError("--discard and --settle need --reason: say why, for the ledger.")
        if len(self.reason) > REASON_LIMIT or not self.reason.isprintable():
            raise RequestError(f"--reason must be one line of at most {REASON_LIMIT} printable characters.")
        if self.settle and self.settle_as not in ("done", "retry"):
            raise RequestError(
                "--settle needs --as done (it is in the sink or the stream) or --as retry (put it again)."
            )
        if self.settle_as and not self.settle:
            raise RequestError("--as goes with --settle SEQUENCE.")
        if both := sorted(self.discard & self.settle):
            raise RequestError(f"{', '.join(both)}: a record is either discarded or settled, not both.")
        if self.keep_payload and self.discard_log is None:
            raise RequestError("--keep-payload goes with --discard-log FILE.")
        if bad := sorted(s for s in self.discard | self.settle if not SEQUENCE.fullmatch(s)):
            raise RequestError(f"{quoted(bad[0])} is not a sequence number.")


@dataclass
class Summary:
    run: str = ""
    failures: int = 0
    queued: int | None = None  # approximately how many messages the queue held (queue only)
    seen: int = 0  # how many items of the failure path this run read, foreign ones included
    fetched: int = 0
    would_pass: int = 0
    reput: int = 0
    not_put: int = 0  # passing, but a put-back stopped before them (see errors): the next run tries again
    still_failing: int = 0
    discarded: int = 0
    settled: int = 0
    expired: int = 0
    already_done: int = 0
    in_doubt: int = 0
    forged: int = 0
    closed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    foreign: list[Foreign] = field(default_factory=list)
    in_doubt_records: list[str] = field(default_factory=list)  # shard#sequence
    forged_entries: list[str] = field(default_factory=list)  # ledger keys
    refused: list[str] = field(default_factory=list)  # settles and discards that could not be done
    errors: list[str] = field(default_factory=list)  # why a put-back stopped

    @property
    def unresolved(self) -> int:
        counts = (self.still_failing, self.not_put, self.expired, self.in_doubt, self.forged)
        return sum(counts) + len(self.foreign) + len(self.refused)

    def note(self, listing: list[Any], item: Any) -> None:
        if len(listing) < LISTED:
            listing.append(item)


# ------------------------------------------------------------------------------------ the path
class FailurePath:
    """The on-failure queue or archive bucket of the target, and how each item is left or closed."""

    def __init__(self, client: Callable[[str], Any], target: Target, options: Options) -> None:
        self.client = client
        self.target = target
        self.options = options
        self.queue = ":sqs:" in target.destination_arn
        if not self.queue and ":s3:" not in target.destination_arn:
            raise RedriveError(f"The on-failure destination {target.destination_arn} is neither a queue nor a bucket.")
        self.holder: Holder | None = None
        self.url = ""

    def __enter__(self) -> Self:
        if self.queue:
            sqs = self.client("sqs")
            _, _, _, _, account, name = self.target.destination_arn.split(":", 5)
            try:
                self.url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            except ClientError as exc:
                raise RedriveError(
                    f"Cannot find the queue {name}: {exc.response['Error'].get('Message', exc)}"
                ) from None
            if self.options.apply:
                self.holder = Holder(sqs, self.url, self.options.hold_s).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.holder is not None:
            self.holder.__exit__(*exc)

    def read(self, summary: Summary) -> list[Failure]:
        if self.queue:
            read = read_queue(self.client("sqs"), self.url, self.target, holder=self.holder, limit=self.options.limit)
            summary.queued = read.queued
            failures, foreign = read.failures, read.foreign
        else:
            bucket = self.target.destination_arn.rsplit(":", 1)[-1]
            items = list(read_archive(self.client("s3"), bucket, self.target, limit=self.options.limit))
            failures = [item for item in items if isinstance(item, Failure)]
            foreign = [item for item in items if isinstance(item, Foreign)]
        summary.seen = len(failures) + len(foreign)
        summary.foreign += foreign
        return failures

    def leave(self, failure: Failure) -> None:
        """As it was found: a queue message visible again at once."""
        if self.holder is not None:
            self.holder.release(failure.ident)

    def close(self, failure: Failure) -> None:
        if self.holder is not None:
            self.holder.delete(failure.ident)
        elif not self.queue:
            s3, bucket = self.client("s3"), self.target.destination_arn.rsplit(":", 1)[-1]
            s3.copy_object(
                Bucket=bucket, Key=DONE_PREFIX + failure.handle, CopySource={"Bucket": bucket, "Key": failure.handle}
            )
            s3.delete_object(Bucket=bucket, Key=failure.handle)


# ------------------------------------------------------------------------------------ the run
@dataclass
class Run:
    client: Callable[[str], Any]
    target: Target
    options: Options
    ledger: Ledger
    reason_of: Callable[[dict[str, Any]], str | None]
    summary: Summary
    matched: set[str] = field(default_factory=set)

    def note_failure(self, failure: Failure) -> Entry | None:
        """The failure's ledger entry, written the first time it is read (dry run included)."""
        info = failure.info
        details: dict[str, str | int] = {
            "shard": info.shard, "start_sequence": info.start, "end_sequence": info.end, "batch_size": info.size,
        }  # fmt: skip
        if info.failed_at:
            details["failed_at"] = info.failed_at
        if failure.sent_at:
            details["sent_at"] = failure.sent_at
        function = self.target.function_name
        existing = self.ledger.failure(function, failure.ident)
        if existing is not None and existing.trusted and existing.status == "open":
            return existing
        if existing is not None and not existing.trusted:
            self.summary.forged += 1
            self.summary.note(self.summary.forged_entries, f"FAILURE#{function} {shown(failure.ident)}")
        if existing is not None and existing.trusted:  # closed, yet still in the failure path: open again
            first = existing.text("first_seen")
            details = {**details, **({"first_seen": first} if first else {})}
        written = self.ledger.open_failure(function, failure.ident, details, existing)
        return written or self.ledger.failure(function, failure.ident)

    def failure(self, failure: Failure) -> bool:
        """Redrive one failure; True when every one of its records is now put back, discarded or settled."""
        if failure.records is not None:
            records, missing = failure.records, 0
        else:
            fetched = fetch_from_stream(self.client, self.target, failure.info)
            records, missing = fetched.records, fetched.missing
        self.summary.fetched += len(records)
        self.summary.expired += missing
        shard = failure.info.shard
        entries = self.ledger.records(self.target.stream_arn, shard, [sequence_of(r) for r in records])
        passing: list[dict[str, Any]] = []
        settled = missing == 0
        for record in records:
            outcome = self.record(shard, record, entries.get(sequence_of(record)))
            if outcome == "pass":
                passing.append(record)
            settled = settled and outcome in ("settled", "pass")
        if passing and self.options.apply:
            result = self.put_back(shard, passing)
            self.summary.reput += result.done
            self.summary.in_doubt += len(result.in_doubt)
            self.summary.not_put += len(passing) - result.done - len(result.in_doubt)
            for sequence in result.in_doubt:
                self.summary.note(self.summary.in_doubt_records, f"{shard}#{sequence}")
            for error in result.errors:
                self.summary.note(self.summary.errors, error)
            return settled and result.done == len(passing)
        return settled and not passing  # a dry run puts nothing back

    def record(self, shard: str, record: dict[str, Any], entry: Entry | None) -> str:
        """What to do with one record: "settled" (nothing left to do), "pass" (put it back), "open"."""
        sequence = sequence_of(record)
        summary, options = self.summary, self.options
        if sequence in options.settle | options.discard:
            self.matched.add(sequence)
        if sequence in options.settle:
            return self.settle(record, entry)
        if sequence in options.discard and not (entry is not None and entry.trusted and entry.status == "done"):
            return self.discard(shard, record, entry)
        if entry is not None and not entry.trusted:
            summary.forged += 1
            summary.note(summary.forged_entries, f"RECORD#{self.target.stream_arn} {shard}#{sequence}")
            return "open"
        if entry is not None and entry.status in ("done", "discarded"):
            summary.already_done += 1
            if sequence in options.discard:
                summary.note(summary.refused, f"--discard {sequence}: it was put back already (done); not discarded")
            return "settled"
        if entry is not None:  # claimed, never confirmed
            summary.in_doubt += 1
            summary.note(summary.in_doubt_records, f"{shard}#{sequence}")
            return "open"
        return self.check(record)

    def check(self, record: dict[str, Any]) -> str:
        try:
            why = self.reason_of(record)
        except Exception as exc:  # a custom processor that raises instead of rejecting: a reason, not a crash
            why = f"the processor raised {type(exc).__name__}"
        if why is None:
            self.summary.would_pass += 1
            return "pass"
        self.summary.still_failing += 1
        why = shown(why, 200)
        self.summary.reasons[why] = self.summary.reasons.get(why, 0) + 1
        return "open"

    def settle(self, record: dict[str, Any], entry: Entry | None) -> str:
        sequence, summary, outcome = sequence_of(record), self.summary, self.options.settle_as or ""
        if entry is None or (entry.trusted and entry.status in ("done", "discarded")):
            state = "has no ledger entry (--apply puts it back)" if entry is None else f"is {entry.status} already"
            summary.note(summary.refused, f"--settle {sequence}: the record {state}; nothing to settle")
            return self.check(record) if entry is None else "settled"
        if not self.options.apply:
            summary.settled += 1
            return "open"
        if not self.ledger.settle(entry, outcome, self.options.reason):
            summary.note(summary.refused, f"--settle {sequence}: its ledger entry changed while settling; run again")
            return "open"
        summary.settled += 1
        return "settled" if outcome == "done" else self.check(record)

    def discard(self, shard: str, record: dict[str, Any], entry: Entry | None) -> str:
        summary, sequence = self.summary, sequence_of(record)
        if entry is not None and entry.trusted and entry.status == "discarded":
            summary.already_done += 1
            return "settled"
        summary.discarded += 1
        if not self.options.apply:
            return "open"
        if self.ledger.discard(self.target.stream_arn, shard, sequence, self.options.reason, entry) is None:
            summary.discarded -= 1
            summary.note(summary.refused, f"--discard {sequence}: its ledger entry changed while discarding; run again")
            return "open"
        self.log_discard(shard, record)
        return "settled"

    def log_discard(self, shard: str, record: dict[str, Any]) -> None:
        """One line per discard in --discard-log: keys and a digest; the record only with --keep-payload."""
        if self.options.discard_log is None:
            return
        data = digest_source(record)
        line: dict[str, Any] = {
            "at": now(), "run": self.ledger.run, "writer": self.ledger.writer, "stream": self.target.stream_arn,
            "shard": shard, "sequence": sequence_of(record), "reason": self.options.reason,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
        }  # fmt: skip
        if self.options.keep_payload:
            line["record"] = record
        descriptor = os.open(self.options.discard_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a") as log:
            log.write(json.dumps(line) + "\n")

    def put_back(self, shard: str, records: list[dict[str, Any]]) -> PutResult:
        if self.target.kinesis:
            return put_kinesis(self.client("kinesis"), self.target, self.ledger, shard, records)
        return invoke_function(self.client("lambda"), self.target, self.ledger, shard, records)


def redrive(
    client: Callable[[str], Any],
    target: Target,
    options: Options,
    progress: Callable[[Failure], None] = lambda _f: None,
) -> Summary:
    options.validate()
    try:
        writer = str(client("sts").get_caller_identity()["Arn"])
    except ClientError as exc:
        raise RedriveError(f"Cannot tell who is redriving (sts:GetCallerIdentity): {exc}") from None
    summary = Summary(run=uuid.uuid4().hex)
    ledger = Ledger(
        client("dynamodb"), target.ledger_table, Macs(client("kms"), target.ledger_key), writer=writer, run=summary.run
    )
    run = Run(client, target, options, ledger, checker(target, options.check), summary)
    requested = options.discard | options.settle
    with FailurePath(client, target, options) as path:
        failures = path.read(summary)
        if unknown := sorted(s for s in requested if not any(_may_hold(f, s) for f in failures)):
            raise RequestError(
                f"{', '.join(shown(s, 60) for s in unknown[:5])}: no failure in the failure path holds "
                f"{'this sequence number' if len(unknown) == 1 else 'these sequence numbers'}; nothing was changed."
            )
        for failure in failures:
            summary.failures += 1
            entry = run.note_failure(failure)
            try:
                settled = run.failure(failure)
            except NotOurs as exc:  # the range does not fit: someone else's, after all
                summary.foreign.append(Foreign(failure.origin, failure.ident, str(exc)))
                summary.failures -= 1
                path.leave(failure)
                continue
            if settled and options.apply:
                if entry is not None:
                    ledger.close_failure(entry)  # first: a crash before the next line re-opens it on the next run
                try:
                    path.close(failure)
                except ClientError as exc:  # e.g. an expired receipt handle: the next run sees it again, all done
                    summary.note(summary.errors, f"closing {shown(failure.ident, 80)}: {describe(exc)}")
                    path.leave(failure)
                    continue
                summary.closed += 1
            else:
                path.leave(failure)
            progress(failure)
    for sequence in sorted(requested - run.matched):
        summary.note(summary.refused, f"{sequence}: not found among the records of the failures that name it")
    return summary


def _may_hold(failure: Failure, sequence: str) -> bool:
    if failure.records is not None:
        return any(sequence_of(r) == sequence for r in failure.records)
    return failure.info.holds(sequence)
