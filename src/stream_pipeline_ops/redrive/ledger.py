"""The redrive ledger: a DynamoDB table of its own (``<name>-redrive-ledger``, pk/sk strings) that the
function's role is denied, every item MACed with a KMS HMAC_256 key the role is denied too.

Record entries (``RECORD#<stream ARN>`` / ``<shard>#<sequence>``) make a delivery exactly once per
ledger: claimed before the function is invoked with the record, confirmed after it answered; a claim
never confirmed is *in doubt* until an operator settles it. Failure entries (``FAILURE#<function>`` /
the queue MessageId or archive key) let the doctor see a failure an operator has read, ``open`` until
redrive resolves it. The cursor entry (``CURSOR#<function>`` / ``archive``) says after which key the
next ``--apply`` run reads the failure archive.

Every item carries ``mac`` = kms:GenerateMac (HMAC_SHA_256) over :func:`canonical`, the sorted JSON
of its other attributes' plain values, pk and sk included, so an item cannot be moved to another
key. An item whose MAC does not verify is *forged*: never trusted (a forged ``done`` closes
nothing, a forged cursor moves nothing), reported, and replaced only by an operator's explicit
decision (``--settle``, ``--discard``) or a run's own write, every write being conditional on the
exact item that was read. The MAC cannot stop a deletion (plain ``DeleteItem``): a deleted entry only
makes redrive deliver a record again, which the processors' idempotency on the sequence number
makes harmless.
"""

from __future__ import annotations

import base64
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.target import RedriveError

if TYPE_CHECKING:
    from collections.abc import Callable

MAC_ALGORITHM: Final = "HMAC_SHA_256"
BATCH_GET_LIMIT: Final = 100
UNPROCESSED_TRIES: Final = 8
# kms:VerifyMac is one call per item read, so a batch's entries are verified 8 at a time to overlap the
# round trips. Measured on moto only (in-process, so CPU- not latency-bound): 1,000 entries in 1.53 s
# with 1 worker, 1.39 s with 8; AWS's latency, which the threads are for, was not reachable here.
VERIFY_WORKERS: Final = 8
INTEGER: Final = re.compile(r"-?[0-9]{1,38}")
ACCESS_DENIED: Final = ("AccessDeniedException", "AccessDenied", "NotAuthorized")


def plain(attribute: Any) -> Any:
    """A DynamoDB attribute's plain value: S as text, N as an integer; anything else (which redrive never
    writes, so only a forged item holds it) as a tagged form that cannot collide with those two."""
    if isinstance(attribute, dict) and len(attribute) == 1:
        ((kind, value),) = attribute.items()
        if kind == "S" and isinstance(value, str):
            return value
        if kind == "N" and isinstance(value, str) and INTEGER.fullmatch(value):
            return int(value)
        if kind == "B" and isinstance(value, bytes):
            return {"B": base64.b64encode(value).decode()}
    return {"?": json.dumps(attribute, sort_keys=True, default=repr)}


def canonical(item: dict[str, Any]) -> bytes:
    """What the MAC covers: every attribute but ``mac``, as sorted, compact JSON of plain values."""
    values = {name: plain(attribute) for name, attribute in item.items() if name != "mac"}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def typed(values: dict[str, str | int]) -> dict[str, Any]:
    return {name: {"N": str(v)} if isinstance(v, int) else {"S": v} for name, v in values.items()}


def now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds")


class Macs:
    """The ledger key: kms:GenerateMac and kms:VerifyMac with HMAC_SHA_256. (moto implements both,
    so the unit tier runs the real calls; this class is the only place that makes them.) The key
    policy lets only the principals in the module's ``operator_role_arns`` use it: a refusal says so."""

    def __init__(self, kms: Any, key: str, caller: str = "") -> None:
        self.kms = kms
        self.key = key
        self.caller = caller

    def refused(self, action: str, exc: ClientError) -> RedriveError:
        error = exc.response["Error"]
        why = shown(error.get("Message", exc), 300)
        if error.get("Code") in ACCESS_DENIED:
            who = f" ({shown(self.caller, 200)})" if self.caller else ""
            return RedriveError(
                f"KMS refused kms:{action} on the ledger key {self.key} to this caller{who}: {why}. The key policy "
                "lets only the principals in the module's operator_role_arns sign and verify the ledger: add the "
                "role you redrive as to operator_role_arns and apply the stack."
            )
        return RedriveError(f"Cannot use the ledger key {self.key} (kms:{action}): {why}")

    def sign(self, message: bytes) -> bytes:
        try:
            mac: bytes = self.kms.generate_mac(KeyId=self.key, Message=message, MacAlgorithm=MAC_ALGORITHM)["Mac"]
        except ClientError as exc:
            raise self.refused("GenerateMac", exc) from None
        return mac

    def verify(self, message: bytes, mac: Any) -> bool:
        if not isinstance(mac, bytes) or not mac:
            return False
        try:
            response = self.kms.verify_mac(KeyId=self.key, Message=message, Mac=mac, MacAlgorithm=MAC_ALGORITHM)
        except ClientError as exc:
            code = exc.response["Error"].get("Code", "")
            if code in ("KMSInvalidMacException", "ValidationException", "InvalidParameterValue"):
                return False  # a wrong MAC, or an item too large or too odd to have been MACed by redrive
            raise self.refused("VerifyMac", exc) from None
        return bool(response.get("MacValid"))


@dataclass(frozen=True)
class Entry:
    """A ledger item as read, and whether its MAC verified."""

    item: dict[str, Any]
    trusted: bool

    @property
    def status(self) -> str:
        value = plain(self.item.get("status"))
        return value if isinstance(value, str) else "?"

    @property
    def mac(self) -> bytes | None:
        value = self.item.get("mac", {}).get("B") if isinstance(self.item.get("mac"), dict) else None
        return value if isinstance(value, bytes) else None

    def values(self) -> dict[str, Any]:
        return {name: plain(attribute) for name, attribute in self.item.items() if name != "mac"}

    def text(self, name: str) -> str | None:
        value = plain(self.item.get(name)) if name in self.item else None
        return value if isinstance(value, str) else None


class Ledger:
    """Reads and MACed, conditional writes of the ledger table."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        macs: Macs,
        *,
        writer: str,
        run: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.macs = macs
        self.writer = writer
        self.run = run
        self.sleep = sleep

    # ------------------------------------------------------------------ plumbing
    def _fail(self, action: str, exc: ClientError) -> RedriveError:
        error = exc.response["Error"]
        if error.get("Code") == "ResourceNotFoundException":
            return RedriveError(
                f"The redrive ledger table {self.table} does not exist: apply version 0.3.0 or later of the module, "
                "which creates it."
            )
        return RedriveError(f"Cannot {action} the redrive ledger {self.table}: {error.get('Message', exc)}")

    def verify(self, items: list[dict[str, Any]]) -> list[Entry]:
        def check(item: dict[str, Any]) -> Entry:
            return Entry(item, self.macs.verify(canonical(item), Entry(item, trusted=False).mac))

        if len(items) <= 1:
            return [check(item) for item in items]
        with ThreadPoolExecutor(max_workers=VERIFY_WORKERS) as pool:
            return list(pool.map(check, items))

    def _signed(self, values: dict[str, str | int]) -> dict[str, Any]:
        stamped: dict[str, str | int] = {**values, "at": now(), "writer": self.writer, "run": self.run}
        item = typed(stamped)
        return {**item, "mac": {"B": self.macs.sign(canonical(item))}}

    def _put(self, values: dict[str, str | int], replacing: Entry | None) -> Entry | None:
        """Write an item only if the key is free (``replacing`` None) or still holds exactly ``replacing``;
        None when it does not (someone else wrote there first)."""
        item = self._signed(values)
        try:
            self.dynamodb.put_item(TableName=self.table, Item=item, **self._unchanged(replacing))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise self._fail("write", exc) from None
        return Entry(item, trusted=True)

    def _delete(self, entry: Entry) -> bool:
        key = {"pk": entry.item["pk"], "sk": entry.item["sk"]}
        try:
            self.dynamodb.delete_item(TableName=self.table, Key=key, **self._unchanged(entry))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise self._fail("write", exc) from None
        return True

    @staticmethod
    def _unchanged(entry: Entry | None) -> dict[str, Any]:
        if entry is None:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        if entry.mac is None:
            return {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(mac)"}
        return {"ConditionExpression": "mac = :mac", "ExpressionAttributeValues": {":mac": {"B": entry.mac}}}

    # ------------------------------------------------------------------ record entries
    @staticmethod
    def record_key(stream_arn: str, shard: str, sequence: str) -> dict[str, str | int]:
        return {"pk": f"RECORD#{stream_arn}", "sk": f"{shard}#{sequence}"}

    def records(self, stream_arn: str, shard: str, sequences: list[str]) -> dict[str, Entry]:
        """The entry of each record that has one, verified: one consistent BatchGetItem per 100 records,
        its unprocessed keys asked again (with backoff) until none is left."""
        items: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(sequences))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            keys = [typed(self.record_key(stream_arn, shard, s)) for s in unique[start : start + BATCH_GET_LIMIT]]
            for attempt in range(UNPROCESSED_TRIES):
                try:
                    response = self.dynamodb.batch_get_item(
                        RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
                    )
                except ClientError as exc:
                    raise self._fail("read", exc) from None
                items += response.get("Responses", {}).get(self.table, [])
                keys = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not keys:
                    break
                self.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise RedriveError(
                    f"The ledger table {self.table} kept {len(keys)} keys unprocessed after {UNPROCESSED_TRIES} "
                    "tries (throttled); run again later."
                )
        prefix = f"{shard}#"
        return {str(plain(e.item["sk"])).removeprefix(prefix): e for e in self.verify(items)}

    def claim(self, stream_arn: str, shard: str, sequence: str) -> Entry | None:
        """This run's claim on a record, or None when the record has an entry already."""
        return self._put({**self.record_key(stream_arn, shard, sequence), "status": "claimed"}, None)

    def confirm(self, claim: Entry, request: str) -> Entry | None:
        """The record was delivered: the function answered invocation ``request`` without failing it."""
        values: dict[str, str | int] = {"pk": claim.values()["pk"], "sk": claim.values()["sk"], "status": "done"}
        values["invoked"] = request
        return self._put(values, claim)

    def release(self, claim: Entry) -> bool:
        """Drop this run's claim: nothing was delivered, so a later run may deliver the record."""
        return self._delete(claim)

    def discard(self, stream_arn: str, shard: str, sequence: str, reason: str, replacing: Entry | None) -> Entry | None:
        values = {**self.record_key(stream_arn, shard, sequence), "status": "discarded", "reason": reason}
        if replacing is not None:
            values["replaced"] = f"{replacing.status} ({'verified' if replacing.trusted else 'forged'})"
        return self._put(values, replacing)

    def settle(self, entry: Entry, outcome: str, reason: str) -> bool:
        """An operator's decision on an in-doubt (or forged) entry: ``done`` (the record is in the stream or
        the sink, checked) keeps a done entry with the reason; ``retry`` removes the entry, so the record
        is put again."""
        if outcome == "retry":
            return self._delete(entry)
        values = entry.values()
        settled: dict[str, str | int] = {"pk": values["pk"], "sk": values["sk"], "status": "done", "reason": reason}
        settled["settled"] = f"{entry.status} ({'verified' if entry.trusted else 'forged'})"
        return self._put(settled, entry) is not None

    # ------------------------------------------------------------------ failure entries
    @staticmethod
    def failure_key(function: str, ident: str) -> dict[str, str | int]:
        return {"pk": f"FAILURE#{function}", "sk": ident}

    def failure(self, function: str, ident: str) -> Entry | None:
        try:
            found = self.dynamodb.get_item(
                TableName=self.table, Key=typed(self.failure_key(function, ident)), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise self._fail("read", exc) from None
        return self.verify([found])[0] if found else None

    def open_failure(
        self, function: str, ident: str, details: dict[str, str | int], replacing: Entry | None
    ) -> Entry | None:
        """Write the failure's open entry; None when someone else wrote there since ``replacing`` was read."""
        values = {**self.failure_key(function, ident), "status": "open", "first_seen": now(), **details}
        if replacing is not None and not replacing.trusted:
            values["replaced"] = f"forged {replacing.status}"
        return self._put(values, replacing)

    def close_failure(self, entry: Entry) -> bool:
        values = {k: v for k, v in entry.values().items() if k not in ("at", "writer", "run")}
        return self._put({**values, "status": "closed", "closed_at": now()}, entry) is not None

    # ------------------------------------------------------------------ the archive's cursor
    @staticmethod
    def cursor_key(function: str, path: str) -> dict[str, str | int]:
        return {"pk": f"CURSOR#{function}", "sk": path}

    def cursor(self, function: str, path: str) -> Entry | None:
        """Where the last --apply run stopped reading ``path`` (``after``: a key), verified."""
        try:
            found = self.dynamodb.get_item(
                TableName=self.table, Key=typed(self.cursor_key(function, path)), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise self._fail("read", exc) from None
        return self.verify([found])[0] if found else None

    def move_cursor(self, function: str, path: str, after: str, replacing: Entry | None) -> bool:
        """Start the next run after ``after`` ("": from the start); False when another run moved it first."""
        return self._put({**self.cursor_key(function, path), "after": after}, replacing) is not None
