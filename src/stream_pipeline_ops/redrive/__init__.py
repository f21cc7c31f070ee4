"""``stream-pipeline redrive``: bring the records in the failure path back to the consumer that failed
them, exactly once, and never into the stream.

It acts on the stack's own resources only: the function, the stream and the failure path its live
event source mapping names (outputs that disagree are refused, naming both), and the ledger named
by the stack's ``stream_pipeline`` output (or discovered from ``--function``), never on a stream,
shard or place a failure message names. For each item in the failure path (an on-failure queue
message, or a failure archive object in S3), at most ``--limit`` of this stack's failures a run:

1. check that it is one of this stack's failures (a Lambda invocation record naming this stack's
   stream and function, a shard, a sequence range and a batchSize that fit together); anything
   else, an unreadable archive object included, is *foreign*: reported, left where it was;
2. note it in the ledger as an open failure (dry run included), so the doctor can tell the age
   of the oldest open failure whatever the queue's metrics say;
3. fetch its records from the stack's own stream, the source of truth (a failure only says *which*
   records): by shard and sequence range, at most batchSize of them and none past the end. A range
   the shard never held is foreign; an archive object whose copies differ from the stream's records
   is foreign (forged). Records the stream no longer holds are *expired*, and the failure is kept,
   unless ``--from-archive``: it prints each expired record's sequence number and sha256, and then
   delivers the archive's copy, but only from a versioned bucket and an object written once;
4. check each record with the deployed processor's own validation (built-in processors only, unless
   ``--processor`` names the custom one), so the dry run (the default) says which records would now
   pass and which still fail, with the reasons the handler logs;
5. with ``--apply``, re-deliver the passing records by invoking the consumer's own function with an
   event in Lambda's format, each record with its original sequence number and bytes. The
   processors are idempotent on the sequence number: a record already applied changes nothing, and
   the stream's other consumers see nothing. The function's partial batch response is honoured:
   what it fails again stays in the failure path, with its new reason. The ledger (its own table,
   every item MACed with a KMS key the function cannot use) is claimed before each Invoke and
   confirmed after it: a redrive interrupted and run again delivers nothing twice; a record claimed
   but never confirmed is *in doubt* and left alone until ``--settle SEQUENCE --as done|retry
   --reason TEXT``. A ledger entry whose MAC does not verify is *forged*: reported, never trusted.
   ``--discard SEQUENCE --reason TEXT`` gives a record up on purpose;
6. remove the queue message, or move the archive object under ``redriven/``, and close its
   ledger entry, only when every one of its records was delivered, discarded or settled.

A dry run hides no message (it receives with VisibilityTimeout 0); ``--apply`` hides each for 30 s,
renewed while it works, so an interrupted run leaves none hidden longer than that. The archive is
read in key order from where the last ``--apply`` stopped (a MACed cursor in the ledger). Payloads
never reach a file unless asked: ``--discard-log FILE`` records keys and digests, ``--keep-payload``
the records too.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.checking import checker
from stream_pipeline_ops.redrive.delivery import deliver, describe
from stream_pipeline_ops.redrive.ledger import Entry, Ledger, Macs, now
from stream_pipeline_ops.redrive.paths import HOLD_S, SCAN_LIMIT, FailurePath, open_path
from stream_pipeline_ops.redrive.reading import SEQUENCE, Failure, Foreign, NotOurs, quoted, sequence_of
from stream_pipeline_ops.redrive.stream import digest, fetch, reconcile
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
LIMIT: Final = 1000  # this stack's failures a run reads by default


@dataclass(frozen=True)
class Options:
    apply: bool = False
    check: bool = True
    processor: str | None = None  # a custom processor the operator trusts the checker to import
    discard: frozenset[str] = frozenset()
    settle: frozenset[str] = frozenset()
    settle_as: str | None = None  # "done" or "retry"
    reason: str = ""
    discard_log: Path | None = None
    keep_payload: bool = False
    from_archive: bool = False
    hold_s: int = HOLD_S
    limit: int = LIMIT

    def validate(self) -> None:
        """Refuse a contradictory or unsafe request before anything is read."""
        if (self.discard or self.settle) and not self.reason.strip():
            raise RequestError("--discard and --settle need --reason: say why, for the ledger.")
        if len(self.reason) > REASON_LIMIT or not self.reason.isprintable():
            raise RequestError(f"--reason must be one line of at most {REASON_LIMIT} printable characters.")
        if self.settle and self.settle_as not in ("done", "retry"):
            raise RequestError("--settle needs --as done (it is in the sink already) or --as retry (deliver it again).")
        if self.settle_as and not self.settle:
            raise RequestError("--as goes with --settle SEQUENCE.")
        if both := sorted(self.discard & self.settle):
            raise RequestError(f"{', '.join(both)}: a record is either discarded or settled, not both.")
        if self.keep_payload and self.discard_log is None:
            raise RequestError("--keep-payload goes with --discard-log FILE.")
        if bad := sorted(s for s in self.discard | self.settle if not SEQUENCE.fullmatch(s)):
            raise RequestError(f"{quoted(bad[0])} is not a sequence number.")
        if not 1 <= self.limit <= SCAN_LIMIT:
            raise RequestError(f"--limit must be from 1 to {SCAN_LIMIT:,} (failures a run reads).")
        if self.processor is not None and not self.check:
            raise RequestError("--processor names the processor to check with; --no-check checks with none.")


@dataclass
class Summary:
    run: str = ""
    failures: int = 0
    queued: int | None = None  # approximately how many messages the queue held (queue only)
    seen: int = 0  # how many items of the failure path this run read, foreign ones included
    more: bool = False  # the run stopped at --limit before the end of the failure path
    fetched: int = 0  # records read from the stream
    would_pass: int = 0  # records the deployed processor's validation passes
    redelivered: int = 0  # records the function took (from_archive included)
    from_archive: int = 0  # of them, delivered from the archive's copy (--from-archive)
    skipped_by_function: int = 0  # user records the function reported already applied (DuplicatesSkipped)
    not_delivered: int = 0  # passing, but a delivery stopped before them (see errors): the next run tries again
    still_failing: int = 0  # the check fails them, or the function failed them again
    discarded: int = 0
    settled: int = 0
    expired: int = 0  # the stream no longer holds them (and no --from-archive delivered them)
    already_done: int = 0
    in_doubt: int = 0
    forged: int = 0
    closed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    foreign: list[Foreign] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)  # --from-archive: shard#sequence sha256 of each copy
    in_doubt_records: list[str] = field(default_factory=list)  # shard#sequence
    forged_entries: list[str] = field(default_factory=list)  # ledger keys
    refused: list[str] = field(default_factory=list)  # settles, discards and copies that could not be done
    errors: list[str] = field(default_factory=list)  # why a delivery stopped

    @property
    def unresolved(self) -> int:
        counts = (self.still_failing, self.not_delivered, self.expired, self.in_doubt, self.forged)
        return sum(counts) + len(self.foreign) + len(self.refused)

    def note(self, listing: list[Any], item: Any) -> None:
        if len(listing) < LISTED:
            listing.append(item)

    def failed(self, why: str) -> None:
        self.still_failing += 1
        self.reasons[why] = self.reasons.get(why, 0) + 1


# ------------------------------------------------------------------------------------ the run
@dataclass
class Run:
    client: Callable[[str], Any]
    target: Target
    options: Options
    ledger: Ledger
    path: FailurePath
    reason_of: Callable[[dict[str, Any]], str | None]
    summary: Summary
    announce: Callable[[str], None]
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
        """Redrive one failure; True when every one of its records is now delivered, discarded or settled."""
        fetched = fetch(self.client, self.target, failure.info)
        copies = reconcile(failure, fetched, self.target) if failure.archived is not None else []
        usable = self.trusted_copies(failure, copies) if fetched.missing else []
        self.summary.fetched += len(fetched.records)
        self.summary.expired += fetched.missing - len(usable)
        shard = failure.info.shard
        records = usable + fetched.records  # the copies are of the range's first records (trimmed first)
        entries = self.ledger.records(self.target.stream_arn, shard, [sequence_of(r) for r in records])
        passing: list[dict[str, Any]] = []
        settled = fetched.missing == len(usable)
        for record in records:
            outcome = self.record(shard, record, entries.get(sequence_of(record)))
            if outcome == "pass":
                passing.append(record)
            settled = settled and outcome in ("settled", "pass")
        if not (passing and self.options.apply):
            return settled and not passing  # a dry run delivers nothing
        result = deliver(self.client("lambda"), self.target, self.ledger, shard, passing)
        summary = self.summary
        summary.redelivered += result.done
        delivered = {sequence_of(r) for r in passing} - set(result.failed) - set(result.in_doubt)
        summary.from_archive += sum(1 for copy in usable if sequence_of(copy) in delivered)
        summary.skipped_by_function += result.skipped
        summary.in_doubt += len(result.in_doubt)
        summary.not_delivered += len(passing) - result.done - len(result.in_doubt) - len(result.failed)
        for why in result.failed.values():
            summary.failed(why)
        for sequence in result.in_doubt:
            summary.note(summary.in_doubt_records, f"{shard}#{sequence}")
        for error in result.errors:
            summary.note(summary.errors, error)
        return settled and result.done == len(passing)

    def trusted_copies(self, failure: Failure, copies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """With --from-archive, the archive's copies of the expired records, once each one's digest is
        printed and the object is one written once in a versioned bucket; none otherwise."""
        if not (self.options.from_archive and copies):
            return []
        for copy in copies:
            sha, size = digest(copy)
            line = f"{failure.info.shard}#{sequence_of(copy)} sha256 {sha} ({size:,} bytes)"
            self.summary.note(self.summary.digests, line)
            self.announce(f"from the archive's copy in {shown(failure.ident, 120)}: {line}")
        refusal = self.path.copy_refusal(failure)
        if refusal is not None:
            self.summary.note(self.summary.refused, f"--from-archive {shown(failure.ident, 120)}: {refusal}")
            return []
        return copies

    def record(self, shard: str, record: dict[str, Any], entry: Entry | None) -> str:
        """What to do with one record: "settled" (nothing left to do), "pass" (deliver it), "open"."""
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
                summary.note(summary.refused, f"--discard {sequence}: it was delivered already (done); not discarded")
            return "settled"
        if entry is not None:  # claimed, never confirmed
            summary.in_doubt += 1
            summary.note(summary.in_doubt_records, f"{shard}#{sequence}")
            return "open"
        return self.check(record)

    def check(self, record: dict[str, Any]) -> str:
        try:
            why = self.reason_of(record)
        except Exception as exc:
            why = f"the processor raised {type(exc).__name__}"
        if why is None:
            self.summary.would_pass += 1
            return "pass"
        self.summary.failed(shown(why, 200))
        return "open"

    def settle(self, record: dict[str, Any], entry: Entry | None) -> str:
        sequence, summary, outcome = sequence_of(record), self.summary, self.options.settle_as or ""
        if entry is None or (entry.trusted and entry.status in ("done", "discarded")):
            state = "has no ledger entry (--apply delivers it)" if entry is None else f"is {entry.status} already"
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
        sha, size = digest(record)
        line: dict[str, Any] = {
            "at": now(), "run": self.ledger.run, "writer": self.ledger.writer, "stream": self.target.stream_arn,
            "shard": shard, "sequence": sequence_of(record), "reason": self.options.reason,
            "sha256": sha, "bytes": size,
        }  # fmt: skip
        if self.options.keep_payload:
            line["record"] = record
        descriptor = os.open(self.options.discard_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a") as log:
            log.write(json.dumps(line) + "\n")


def redrive(
    client: Callable[[str], Any],
    target: Target,
    options: Options,
    progress: Callable[[Failure], None] = lambda _f: None,
    announce: Callable[[str], None] = lambda _line: None,
) -> Summary:
    """One run over the failure path. ``progress`` is told of each failure as it is done; ``announce``
    gets the lines an operator must see before anything is delivered (--from-archive's digests)."""
    options.validate()
    check = checker(target, options.check, options.processor)
    try:
        writer = str(client("sts").get_caller_identity()["Arn"])
    except ClientError as exc:
        raise RedriveError(f"Cannot tell who is redriving (sts:GetCallerIdentity): {describe(exc)}") from None
    summary = Summary(run=uuid.uuid4().hex)
    macs = Macs(client("kms"), target.ledger_key, caller=writer)
    ledger = Ledger(client("dynamodb"), target.ledger_table, macs, writer=writer, run=summary.run)
    requested = options.discard | options.settle
    with open_path(client, target, ledger, apply=options.apply, hold_s=options.hold_s) as path:
        run = Run(client, target, options, ledger, path, check, summary, announce)
        reading = path.read(options.limit)
        summary.queued, summary.seen, summary.more = reading.queued, reading.scanned, reading.more
        summary.foreign += reading.foreign
        if reading.forged_cursor is not None:
            summary.forged += 1
            summary.note(summary.forged_entries, reading.forged_cursor)
        if unknown := sorted(s for s in requested if not any(_may_hold(f, s) for f in reading.failures)):
            raise RequestError(
                f"{', '.join(shown(s, 60) for s in unknown[:5])}: no failure in the failure path holds "
                f"{'this sequence number' if len(unknown) == 1 else 'these sequence numbers'}; nothing was changed."
            )
        for failure in reading.failures:
            summary.failures += 1
            entry = run.note_failure(failure)
            try:
                settled = run.failure(failure)
            except NotOurs as exc:  # the range or the copies do not fit the stream: someone else's, after all
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
        path.finish()
    for sequence in sorted(requested - run.matched):
        summary.note(summary.refused, f"{sequence}: not found among the records of the failures that name it")
    return summary


def _may_hold(failure: Failure, sequence: str) -> bool:
    if failure.archived is not None:
        return any(sequence_of(r) == sequence for r in failure.archived)
    return failure.info.holds(sequence)
