"""The failure path, behind one interface: the on-failure queue (:class:`QueuePath`) or the failure
archive bucket (:class:`ArchivePath`). Each reads this stack's failures and the foreign items beside
them, leaves an item as it was found, or closes it once every one of its records is resolved.

A run reads at most ``limit`` of this stack's failures; foreign items do not count against it, so
junk cannot starve the genuine failures, and at most :data:`SCAN_LIMIT` items in all, so junk cannot
make a run endless either. The archive is read in key order from where the last ``--apply`` run
stopped: a cursor kept in the ledger, MACed like every ledger item, so whoever can write the bucket
(or the ledger table, without the key) cannot move it. An object that cannot be read (archived in
Glacier, encrypted with a customer key or a KMS key this role may not use, anything else) is foreign,
never a crash.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Self

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.reading import Failure, Foreign, archive_item, queue_item
from stream_pipeline_ops.redrive.target import RedriveError, Target

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from stream_pipeline_ops.redrive.ledger import Entry, Ledger

ARCHIVE_PREFIX: Final = "aws/lambda/"
DONE_PREFIX: Final = "redriven/"
MAX_ARCHIVE_BYTES: Final = 8 * 1024 * 1024  # an invocation record holds at most a 6 MB payload, plus its envelope
ARCHIVED_CLASSES: Final = ("GLACIER", "DEEP_ARCHIVE")  # GetObject answers InvalidObjectState until restored
SCAN_LIMIT: Final = 10_000  # items a run reads at most, foreign ones included
HOLD_S: Final = 30  # --apply keeps a message hidden this long while it works on it, renewed
STALE_PAGES: Final = 3
RECEIVE_WAIT_S = 1  # a short long-poll: SQS asks every server, so an empty answer means an empty queue


@dataclass
class Reading:
    """What one run read of the failure path."""

    failures: list[Failure] = field(default_factory=list)
    foreign: list[Foreign] = field(default_factory=list)
    scanned: int = 0  # items read, foreign ones included
    queued: int | None = None  # the queue: about how many messages it held when the run began
    more: bool = False  # the run stopped at its limit (or SCAN_LIMIT) before the end of the path
    forged_cursor: str | None = None  # the archive: a cursor entry whose MAC did not verify (ignored)


def _aws(action: str, exc: ClientError) -> RedriveError:
    error = exc.response["Error"]
    return RedriveError(f"Cannot {action}: {shown(error.get('Code', '?'), 60)}: {shown(error.get('Message', ''), 300)}")


class FailurePath:
    """The interface both paths share."""

    origin: str = ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self, limit: int) -> Reading:
        raise NotImplementedError

    def leave(self, failure: Failure) -> None:
        """As it was found."""

    def close(self, failure: Failure) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After a run that went through (not after a crash): remember where the next one starts."""

    def copy_refusal(self, failure: Failure) -> str | None:  # noqa: ARG002 - the interface's signature
        """Why the failure's archived copies cannot be trusted for --from-archive; None when they can."""
        return "the on-failure queue holds no copies of the records"


def open_path(
    client: Callable[[str], Any], target: Target, ledger: Ledger, *, apply: bool, hold_s: int = HOLD_S
) -> FailurePath:
    if ":sqs:" in target.destination_arn:
        return QueuePath(client, target, apply=apply, hold_s=hold_s)
    if ":s3:" in target.destination_arn:
        return ArchivePath(client, target, ledger, apply=apply)
    raise RedriveError(
        f"The on-failure destination {shown(target.destination_arn, 200)} is neither a queue nor a bucket."
    )


# ------------------------------------------------------------------------------------ the queue
class Holder:
    """Keeps the messages an ``--apply`` run has received hidden while it works on them: hidden
    ``hold_s`` at receipt, renewed every third of that by a heartbeat thread, so a killed run leaves
    each hidden at most ``hold_s``. Leaving the context makes every message still held visible."""

    def __init__(self, sqs: Any, url: str, hold_s: int) -> None:
        self.sqs = sqs
        self.url = url
        self.hold_s = hold_s
        self.held: dict[str, str] = {}  # MessageId -> receipt handle
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="redrive-heartbeat", daemon=True)
        self.renewals = 0

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self._visibility(list(self.held.items()), 0)  # what was not closed is visible again at once
        self.held.clear()

    def hold(self, ident: str, handle: str) -> None:
        with self.lock:
            self.held[ident] = handle

    def release(self, ident: str) -> None:
        with self.lock:
            handle = self.held.pop(ident, None)
        if handle is not None:
            self._visibility([(ident, handle)], 0)

    def delete(self, ident: str) -> None:
        """Delete a held message; if SQS refuses, it stays held, so leaving makes it visible again."""
        with self.lock:
            handle = self.held.get(ident)
        if handle is not None:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=handle)
            with self.lock:
                self.held.pop(ident, None)

    def _beat(self) -> None:
        while not self.stopped.wait(max(self.hold_s / 3, 0.2)):
            with self.lock:
                held = list(self.held.items())
            try:
                self._visibility(held, self.hold_s)
            except (ClientError, BotoCoreError):
                continue  # the next beat tries again; the receipt's own timeout is the bound either way
            self.renewals += 1

    def _visibility(self, held: list[tuple[str, str]], seconds: int) -> None:
        for start in range(0, len(held), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                for n, (_ident, handle) in enumerate(held[start : start + 10])
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)


class QueuePath(FailurePath):
    """The on-failure queue. A dry run receives with VisibilityTimeout 0, hiding nothing, so SQS may
    show it the same messages again: it stops when it has seen as many as the queue held, or after a
    few pages with nothing new. ``--apply`` hides each message it receives for the run, foreign ones
    too (so that SQS shows it the others), renewed by a heartbeat; every message the run does not
    close is visible again when it ends, or at most ``hold_s`` after it was killed."""

    origin = "queue"

    def __init__(self, client: Callable[[str], Any], target: Target, *, apply: bool, hold_s: int) -> None:
        self.sqs = client("sqs")
        self.target = target
        self.apply = apply
        self.hold_s = hold_s
        self.holder: Holder | None = None
        _, _, _, _, account, name = target.destination_arn.split(":", 5)
        try:
            self.url = str(self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
        except ClientError as exc:
            raise _aws(f"find the queue {shown(name, 80)}", exc) from None

    def __enter__(self) -> Self:
        if self.apply:
            self.holder = Holder(self.sqs, self.url, self.hold_s).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.holder is not None:
            self.holder.__exit__(*exc)

    def read(self, limit: int) -> Reading:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        try:
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"]
            reading = Reading(queued=sum(int(attributes.get(name, 0)) for name in names))
            self._receive(reading, limit)
        except ClientError as exc:
            raise _aws("read the on-failure queue", exc) from None
        return reading

    def _receive(self, reading: Reading, limit: int) -> None:
        holder, stale = self.holder, 0
        seen: set[str] = set()
        while stale < STALE_PAGES:
            if len(reading.failures) >= limit or reading.scanned >= SCAN_LIMIT:
                reading.more = True
                return
            page = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=min(10, SCAN_LIMIT - reading.scanned),
                WaitTimeSeconds=RECEIVE_WAIT_S, VisibilityTimeout=self.hold_s if holder else 0,
                MessageSystemAttributeNames=["SentTimestamp"],
            )  # fmt: skip
            messages = page.get("Messages", [])
            if not messages:
                return
            fresh = [m for m in messages if m["MessageId"] not in seen]
            for message in messages:
                if holder and message["MessageId"] in seen:  # seen again (its hold lapsed): visible at once
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            for message in fresh:
                seen.add(message["MessageId"])
                self._take(message, reading, limit)
            if reading.more:
                return
            stale = 0 if fresh else stale + 1
            if not holder and reading.queued is not None and len(seen) >= reading.queued:
                return

    def _take(self, message: dict[str, Any], reading: Reading, limit: int) -> None:
        """Read one received message, unless the run has its limit of failures already: then it is
        made visible again at once, for the next run."""
        if self.holder:
            self.holder.hold(message["MessageId"], message["ReceiptHandle"])
        if len(reading.failures) >= limit:
            reading.more = True
            if self.holder:
                self.holder.release(message["MessageId"])
            return
        reading.scanned += 1
        item = queue_item(message, self.target)
        if isinstance(item, Foreign):
            reading.foreign.append(item)
        else:
            reading.failures.append(item)

    def leave(self, failure: Failure) -> None:
        if self.holder is not None:
            self.holder.release(failure.ident)

    def close(self, failure: Failure) -> None:
        if self.holder is not None:
            self.holder.delete(failure.ident)


# ------------------------------------------------------------------------------------ the archive
CURSOR_SORT: Final = "archive"


class ArchivePath(FailurePath):
    """The failure archive: the invocation records Lambda wrote under ``aws/lambda/``, read in key
    order from the ledger's cursor on (around to the start when the end is reached), each with a size
    bound. A resolved failure is moved under ``redriven/``."""

    origin = "archive"

    def __init__(self, client: Callable[[str], Any], target: Target, ledger: Ledger, *, apply: bool) -> None:
        self.s3 = client("s3")
        self.target = target
        self.ledger = ledger
        self.apply = apply
        self.bucket = target.destination_arn.rsplit(":", 1)[-1]
        self.cursor: Entry | None = None
        self.next_after = ""  # where the next run starts: after this key ("" from the start)
        self.versioning: str | None = None

    def read(self, limit: int) -> Reading:
        reading = Reading()
        self.cursor = self.ledger.cursor(self.target.function_name, CURSOR_SORT)
        after = ""
        if self.cursor is not None and self.cursor.trusted:
            after = self.cursor.text("after") or ""
        elif self.cursor is not None:
            reading.forged_cursor = f"CURSOR#{self.target.function_name} {CURSOR_SORT}"
        last = after
        for listed in self._listing(after):
            if len(reading.failures) >= limit or reading.scanned >= SCAN_LIMIT:
                reading.more = True
                break
            reading.scanned += 1
            last = str(listed.get("Key", ""))
            item = self._item(listed)
            if isinstance(item, Foreign):
                reading.foreign.append(item)
            else:
                reading.failures.append(item)
        self.next_after = last if reading.more else ""
        return reading

    def _listing(self, after: str) -> Iterator[dict[str, Any]]:
        """Every object under aws/lambda/ after ``after``, then those up to and including it."""
        yield from self._pages(after)
        if after:
            for listed in self._pages(""):
                if str(listed.get("Key", "")) > after:
                    return
                yield listed

    def _pages(self, after: str) -> Iterator[dict[str, Any]]:
        arguments = {"Bucket": self.bucket, "Prefix": ARCHIVE_PREFIX, **({"StartAfter": after} if after else {})}
        try:
            for page in self.s3.get_paginator("list_objects_v2").paginate(**arguments):
                yield from page.get("Contents", [])
        except ClientError as exc:
            raise _aws(f"list the failure archive {shown(self.bucket, 80)}", exc) from None

    def _item(self, listed: dict[str, Any]) -> Failure | Foreign:
        key, size, storage = str(listed.get("Key", "")), int(listed.get("Size", 0)), listed.get("StorageClass")
        if storage in ARCHIVED_CLASSES:
            return Foreign("archive", key, f"unreadable: stored in {storage}; restore it (s3api restore-object) first")
        if size > MAX_ARCHIVE_BYTES:
            return Foreign("archive", key, f"{size:,} bytes, larger than any invocation record")
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{MAX_ARCHIVE_BYTES}")["Body"]
            data = body.read(MAX_ARCHIVE_BYTES + 1)
        except ClientError as exc:
            return Foreign("archive", key, f"unreadable: {unreadable(exc)}")
        except BotoCoreError as exc:
            return Foreign("archive", key, f"unreadable: {type(exc).__name__}")
        if len(data) > MAX_ARCHIVE_BYTES:
            return Foreign("archive", key, f"more than {MAX_ARCHIVE_BYTES:,} bytes, larger than any invocation record")
        return archive_item(key, data, self.target)

    def close(self, failure: Failure) -> None:
        self.s3.copy_object(
            Bucket=self.bucket,
            Key=DONE_PREFIX + failure.handle,
            CopySource={"Bucket": self.bucket, "Key": failure.handle},
        )
        self.s3.delete_object(Bucket=self.bucket, Key=failure.handle)

    def finish(self) -> None:
        """With --apply, the cursor moves to where this run stopped (back to the start after a full pass).
        A dry run leaves it, so that it shows what the next --apply will read."""
        trusted = self.cursor is not None and self.cursor.trusted
        before = (self.cursor.text("after") or "") if self.cursor is not None and trusted else None
        if not self.apply or before == self.next_after or (self.cursor is None and not self.next_after):
            return
        self.ledger.move_cursor(self.target.function_name, CURSOR_SORT, self.next_after, self.cursor)

    def copy_refusal(self, failure: Failure) -> str | None:
        """--from-archive trusts an archived copy only in a versioned bucket, and only an object written
        once: Lambda writes each failure once, under a key of its own; a second version is an overwrite."""
        if self.versioning is None:
            try:
                self.versioning = str(
                    self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status") or "never enabled"
                )
            except ClientError as exc:
                return (
                    f"cannot tell whether the archive bucket is versioned (s3:GetBucketVersioning): {unreadable(exc)}"
                )
        if self.versioning != "Enabled":
            return (
                f"the archive bucket {shown(self.bucket, 80)} is not versioned (versioning {self.versioning}): an "
                "overwritten object leaves no trace there, so no archived copy is trusted. Enable versioning first."
            )
        versions = 0
        try:
            pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=failure.handle)
            for page in pages:
                listed = page.get("Versions", []) + page.get("DeleteMarkers", [])
                versions += sum(1 for version in listed if version.get("Key") == failure.handle)
                if versions > 1:
                    break
        except ClientError as exc:
            return f"cannot list the object's versions (s3:ListBucketVersions): {unreadable(exc)}"
        if versions > 1:
            return f"the archive object has {versions if versions == 2 else 'several'} versions: it was overwritten"
        return None


def unreadable(exc: ClientError) -> str:
    """Why S3 would not give an object, in a sentence (the code, and what it usually means)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "?"))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = str(error.get("Message", ""))
    if code == "InvalidObjectState":
        meaning = "archived (Glacier or Deep Archive); restore it first"
    elif "customer" in message.lower() or (status == 400 and "encrypt" in message.lower()):
        meaning = "encrypted with a customer-provided key (SSE-C), which Lambda never uses"
    elif code.startswith("KMS") or "kms" in message.lower():
        meaning = "encrypted with a KMS key this role may not use"
    elif code in ("AccessDenied", "403"):
        meaning = "access denied"
    elif code in ("NoSuchKey", "404"):
        meaning = "gone since it was listed"
    else:
        meaning = shown(message, 120) or "an error"
    return f"{shown(code, 60)} ({meaning})"
