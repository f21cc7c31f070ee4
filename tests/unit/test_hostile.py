"""Hostile records (the security review's findings): valid JSON that DynamoDB cannot store, values that
break botocore, nesting that breaks recursion, lying sizes.

Each one goes through the real handler at the start, middle and end of a batch of good records, and
the test checks the four things that must hold for every one of them:

* the record at fault is the failure: exactly it and the records after it are reported, and the
  records before it are in the (moto) sink, nothing else;
* every log line is bounded (``LINE_LIMIT``), and no log line carries the record's payload (each
  hostile record carries ``MARK``);
* ``stream-pipeline redrive``'s checker (``processors.build(...).parse(from_raw(0, record))``)
  gives the handler's verdict, so a redrive never re-delivers a record that fails again;
* the good records pass the checker.
"""

from __future__ import annotations

import base64
import json
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from stream_pipeline import processors
from stream_pipeline.config import load_settings
from stream_pipeline.records import PoisonRecord, SourceType, from_raw
from support import (
    SINK,
    FakeContext,
    change_batch,
    ddb_record,
    expected_standings,
    fresh_handler,
    kinesis_record,
    race_batch,
    scan,
    standings_in,
    telemetry,
)

if TYPE_CHECKING:
    from collections.abc import Callable

MARK = "PAYLOAD-MARK-7f3a"
LINE_LIMIT = 4_096
POSITIONS = {"start": 0, "middle": 5, "end": 10}


def _json_record(text: str, **kwargs: Any) -> dict[str, Any]:
    """A Kinesis record whose payload is exactly ``text`` (json.dumps would escape or refuse it)."""
    return kinesis_record(data=base64.b64encode(text.encode()).decode(), **kwargs)


def _message(**fields: Any) -> str:
    return json.dumps({**telemetry(3, 1), "firmware": MARK, **fields})


def _nested_map(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": MARK}
    for _ in range(depth):
        value = {"M": {"a": value}}
    return value


KINESIS: dict[str, Callable[[], dict[str, Any]]] = {
    "lone surrogate in name": lambda: _json_record(_message()[:-1] + ', "name": "\\ud800' + MARK + '"}'),
    "lone surrogate in a string racerId": lambda: _json_record(_message()[:-1] + ', "racerId": "\\udfff' + MARK + '"}'),
    "second of 40 digits": lambda: kinesis_record(json.loads(_message(second=10**39))),
    "integer of 5,000 digits": lambda: _json_record(_message()[:-1] + ', "second": ' + "9" * 5_000 + "}"),
    "racerId of 200 digits": lambda: kinesis_record(json.loads(_message(racerId=10**199))),
    "nested 30,000 deep": lambda: _json_record(
        '{"firmware": "' + MARK + '", "x": ' + "[" * 30_000 + "]" * 30_000 + "}"
    ),
    "cadence NaN": lambda: _json_record(_message()[:-1] + ', "cadence": NaN}'),
    "resistance Infinity": lambda: _json_record(_message()[:-1] + ', "resistance": Infinity}'),
    "sequence number not digits": lambda: kinesis_record(json.loads(_message()), sequence="12a34"),
    "shard id with a lone surrogate": lambda: kinesis_record(json.loads(_message()), shard="shardId-\ud800" + MARK),
}


def _image(**attributes: Any) -> dict[str, Any]:
    return {"id": {"S": "hostile"}, "note": {"S": MARK}, **attributes}


def _change(new: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    record = ddb_record("INSERT", "hostile", new=new, sequence=9_100_000)
    record["dynamodb"].update(overrides)
    return record


DYNAMODB: dict[str, Callable[[], dict[str, Any]]] = {
    "lone surrogate in a nested string": lambda: _change(_image(m={"M": {"x": {"L": [{"S": "\ud800" + MARK}]}}})),
    "lone surrogate in a map key": lambda: _change(_image(m={"M": {"a": {"M": {"\udc00" + MARK: {"S": "v"}}}}})),
    "lone surrogate in a key": lambda: {
        **(r := _change(_image())),
        "dynamodb": {**r["dynamodb"], "Keys": {"id": {"S": "\ud800" + MARK}}},
    },
    "lone surrogate in a string set": lambda: _change(_image(tags={"SS": ["a", "\ud800" + MARK]})),
    "mistyped value (botocore ParamValidationError)": lambda: _change(
        _image(**{f"v{n}": {"S": [MARK]} for n in range(50)})
    ),
    "map nested 3,000 deep": lambda: _change(_image(deep=_nested_map(3_000))),
    "image nested 32 levels (33 in the audit item)": lambda: _change(_image(deep=_nested_map(31))),
    "number NaN": lambda: _change(_image(n={"N": "NaN"})),
    "number Infinity": lambda: _change(_image(n={"N": "Infinity"})),
    "number of 39 significant digits": lambda: _change(_image(n={"N": "1" * 39})),
    "number below 1E-130": lambda: _change(_image(n={"N": "1E-131"})),
    "number of 1E+126": lambda: _change(_image(n={"N": "1E+126"})),
    "number with an underscore": lambda: _change(_image(n={"N": "1_000"})),
    "number set with a bad member": lambda: _change(_image(ns={"NS": ["1", "9" * 40]})),
    "empty attribute name": lambda: _change(_image(**{"": {"S": MARK}})),
    "empty string set": lambda: _change(_image(tags={"SS": []})),
    "duplicate set members": lambda: _change(_image(tags={"SS": [MARK, MARK]})),
    "NULL that is false": lambda: _change(_image(n={"NULL": False})),
    "BOOL that is text": lambda: _change(_image(b={"BOOL": MARK})),
    "unknown type": lambda: _change(_image(x={"Q": MARK})),
    "SizeBytes as text with a 200 KB image": lambda: _change(_image(big={"S": MARK * 12_000}), SizeBytes="10"),
    "SizeBytes that is a boolean": lambda: _change(_image(), SizeBytes=True),
    "SizeBytes negative": lambda: _change(_image(), SizeBytes=-1),
    "SizeBytes small with a 200 KB image": lambda: _change(_image(big={"S": MARK * 12_000}), SizeBytes=10),
    "creation time NaN": lambda: _change(_image(), ApproximateCreationDateTime=float("nan")),
    "creation time 1E30": lambda: _change(_image(), ApproximateCreationDateTime=1e30),
    "eventID with a lone surrogate": lambda: {**_change(_image()), "eventID": "\ud800" + MARK},
    "userIdentity with a lone surrogate": lambda: {
        **_change(_image()),
        "userIdentity": {"type": "Service", "principalId": "\ud800" + MARK},
    },
    "userIdentity not an object": lambda: {**_change(_image()), "userIdentity": [MARK]},
}


def _checker_verdict(record: dict[str, Any], source: SourceType, env: dict[str, str]) -> str | None:
    """What `stream-pipeline redrive` decides for the record: None when it would pass."""
    try:
        processors.build(load_settings(env), source).parse(from_raw(0, record))
    except PoisonRecord as exc:
        return str(exc)
    return None


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, dynamodb: Any) -> None:
    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "hostile-test")  # restored after the test
    monkeypatch.delenv("RECORD_PROCESSOR", raising=False)


def _run(handler: ModuleType, batch: list[dict[str, Any]]) -> list[str]:
    response = handler.lambda_handler({"Records": batch}, FakeContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def _sequence(record: dict[str, Any]) -> str:
    body = record.get("kinesis") or record["dynamodb"]
    return str(body.get("sequenceNumber") or body.get("SequenceNumber"))


def _assert_logs_bounded_and_payload_free(captured: str) -> None:
    lines = captured.splitlines()
    assert lines, "the handler logged nothing"
    longest = max(len(line) for line in lines)
    assert longest <= LINE_LIMIT, f"a log line of {longest} characters"
    assert MARK not in captured
    assert "\\ud800" not in captured.lower()
    assert "\\udc00" not in captured.lower()
    assert "\\udfff" not in captured.lower()


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", KINESIS)
def test_a_hostile_kinesis_record_fails_alone_at_its_position(
    handler_env: None, dynamodb: Any, capsys: pytest.CaptureFixture[str], kind: str, position: str
) -> None:
    good = race_batch(racers=5, seconds=2)  # racer 3 is in the good records too: its group is shared
    at = POSITIONS[position]
    hostile = KINESIS[kind]()
    batch = [*good[:at], hostile, *good[at:]]

    failed = _run(fresh_handler(), batch)

    assert failed == [_sequence(r) for r in batch[at:]]
    assert standings_in(dynamodb, SINK) == expected_standings(good[:at])
    captured = capsys.readouterr().out
    _assert_logs_bounded_and_payload_free(captured)
    (line,) = [json.loads(x) for x in captured.splitlines() if '"record failed"' in x]
    assert line["batch_index"] == at
    verdict = _checker_verdict(hostile, SourceType.KINESIS, {})
    assert verdict is not None
    assert verdict == line["reason"]  # the redrive's reason is the one the handler logged
    assert all(_checker_verdict(r, SourceType.KINESIS, {}) is None for r in good)


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", DYNAMODB)
def test_a_hostile_dynamodb_record_fails_alone_at_its_position(
    handler_env: None, dynamodb: Any, capsys: pytest.CaptureFixture[str], kind: str, position: str
) -> None:
    good = change_batch(items=4)[:10]
    at = POSITIONS[position]
    hostile = DYNAMODB[kind]()
    batch = [*good[:at], hostile, *good[at:]]

    failed = _run(fresh_handler(), batch)

    assert failed == [_sequence(r) for r in batch[at:]]
    assert {i["sequence_number"]["S"] for i in scan(dynamodb, SINK)} == {_sequence(r) for r in good[:at]}
    captured = capsys.readouterr().out
    _assert_logs_bounded_and_payload_free(captured)
    (line,) = [json.loads(x) for x in captured.splitlines() if '"record failed"' in x]
    verdict = _checker_verdict(hostile, SourceType.DYNAMODB, {})
    assert verdict is not None
    assert verdict == line["reason"]
    assert all(_checker_verdict(r, SourceType.DYNAMODB, {}) is None for r in good)


def test_the_largest_and_smallest_numbers_dynamodb_stores_pass(handler_env: None, dynamodb: Any) -> None:
    """The limits are DynamoDB's, not tighter: a 38-digit number, 1E-130 and 9.99...E+125 are stored."""
    edge = {
        "big": {"N": "9.9999999999999999999999999999999999999E+125"},
        "small": {"N": "1E-130"},
        "digits": {"N": "-" + "9" * 38},
        "trailing": {"N": "1" + "0" * 100},  # trailing zeros are not significant digits
        "deep": _nested_map(30),
        "set": {"NS": ["1", "2.5"]},
    }
    record = _change(_image(**edge))
    assert _run(fresh_handler(), [record]) == []
    (item,) = scan(dynamodb, SINK)
    assert item["new_image"]["M"]["small"] == {"N": "1E-130"}


# ------------------------------------------------------------------- failures while applying
class RefusingClient:
    """A moto client that raises, for the items or racers that ``refuse`` picks, what botocore or
    DynamoDB raise for a value they cannot take: an exception whose text quotes the value."""

    def __init__(self, real: Any, refuse: Callable[[dict[str, Any]], bool], error: Callable[[], Exception]) -> None:
        self.real, self.refuse, self.error = real, refuse, error

    def put_item(self, **kwargs: Any) -> Any:
        if self.refuse(kwargs["Item"]):
            raise self.error()
        return self.real.put_item(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        ((_, requests),) = kwargs["RequestItems"].items()
        if any(self.refuse(r["PutRequest"]["Item"]) for r in requests):
            raise self.error()
        return self.real.batch_write_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


ERRORS: dict[str, Callable[[], Exception]] = {
    "UnicodeEncodeError": lambda: UnicodeEncodeError("utf-8", MARK, 0, 1, "surrogates not allowed"),
    "ParamValidationError": lambda: ParamValidationError(
        report=f"Invalid type for parameter Item, value: {MARK * 500}"
    ),
    "ValidationException": lambda: ClientError(
        {"Error": {"Code": "ValidationException", "Message": f"One or more parameter values were invalid: {MARK}"}},
        "PutItem",
    ),
}


@pytest.mark.parametrize("error", ERRORS)
def test_an_error_writing_one_racer_fails_that_racer_not_the_batch(
    make_pipeline: Any, dynamodb: Any, error: str
) -> None:
    """Before: any error that is not a ClientError failed the batch from index 0, although the other
    racers' standings had been written; and a ClientError's reason carried the AWS message."""
    batch = race_batch(racers=5, seconds=2)
    client = RefusingClient(dynamodb, lambda item: item["sk"]["S"] == "RACER#3", ERRORS[error])
    outcome = make_pipeline(client=client).run(batch, lambda: 30_000)

    first_of_racer_3 = next(
        i for i, r in enumerate(batch) if json.loads(base64.b64decode(r["kinesis"]["data"]))["racerId"] == 3
    )
    assert outcome.processed == first_of_racer_3
    assert [f["itemIdentifier"] for f in outcome.failures] == [_sequence(r) for r in batch[first_of_racer_3:]]
    others = [r for r in batch if json.loads(base64.b64decode(r["kinesis"]["data"]))["racerId"] != 3]
    assert standings_in(dynamodb, SINK) == expected_standings(others)  # the other groups landed
    assert MARK not in outcome.first_failure_reason
    assert error in outcome.first_failure_reason or "unexpected" in outcome.first_failure_reason


@pytest.mark.parametrize("error", ERRORS)
def test_an_item_refused_in_a_batch_write_fails_that_record_only(make_pipeline: Any, dynamodb: Any, error: str) -> None:
    """Before: a refused BatchWriteItem failed its 25 records (or, for a non-ClientError, the whole
    invocation from index 0); now the batch is written item by item and only the refused one fails."""
    batch = change_batch(items=20)  # 60 changes: three batch writes
    bad = batch[37]["dynamodb"]["SequenceNumber"]
    client = RefusingClient(dynamodb, lambda item: item["sequence_number"]["S"] == bad, ERRORS[error])
    outcome = make_pipeline(client=client).run(batch, lambda: 30_000)

    assert outcome.processed == 37
    assert [f["itemIdentifier"] for f in outcome.failures] == [_sequence(r) for r in batch[37:]]
    written = {i["sequence_number"]["S"] for i in scan(dynamodb, SINK)}
    assert written == {_sequence(r) for r in batch} - {bad}  # the others of its batch landed too
    assert MARK not in outcome.first_failure_reason


def test_a_table_level_refusal_does_not_write_item_by_item(make_pipeline: Any, dynamodb: Any) -> None:
    """ResourceNotFoundException concerns the table: no 25 single puts that would fail the same way."""
    batch = change_batch(items=10)
    dynamodb.delete_table(TableName=SINK)
    from support import api_calls

    with api_calls() as log:
        outcome = make_pipeline().run(batch, lambda: 30_000)
    assert outcome.failed == 30
    assert log.count("dynamodb", "PutItem") == 0
    assert "ResourceNotFoundException" in outcome.first_failure_reason


# -------------------------------------------------------------------------------- the logs
def test_an_unexpected_error_in_parse_logs_its_type_and_place_not_its_text(
    handler_env: None, dynamodb: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: logger.exception put the exception's text and the whole traceback on one line."""
    from stream_pipeline.processors.alleycat import AlleycatProcessor

    def broken(self: Any, record: Any) -> Any:
        raise ValueError(MARK * 10_000)

    monkeypatch.setattr(AlleycatProcessor, "parse", broken)
    batch = race_batch(racers=2, seconds=1)
    assert _run(fresh_handler(), batch) == [_sequence(r) for r in batch]
    captured = capsys.readouterr().out
    _assert_logs_bounded_and_payload_free(captured)
    (line,) = [json.loads(x) for x in captured.splitlines() if "unexpected error while parsing" in x]
    assert line["error_type"] == "ValueError"
    assert "test_hostile.py" in line["where"]


def test_a_custom_processor_error_is_logged_by_its_type(
    handler_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team's function calling boto3 with a bad value raises ParamValidationError, whose text is the value."""
    plugin = ModuleType("hostile_plugin")

    def handle(record: Any) -> None:
        message = record.json(65_536)
        if message["racerId"] == 2:
            raise ParamValidationError(report=f"Invalid type for parameter Item, value: {message} {MARK * 1000}")
        if message["racerId"] == 3:
            raise PoisonRecord("racer 3 is not registered")

    plugin.handle = handle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hostile_plugin", plugin)
    monkeypatch.setenv("RECORD_PROCESSOR", "hostile_plugin:handle")
    handler = fresh_handler()
    batch = race_batch(racers=4, seconds=1)
    assert _run(handler, batch) == [_sequence(r) for r in batch[1:]]
    assert _run(handler, batch[2:]) == [_sequence(r) for r in batch[2:]]
    captured = capsys.readouterr().out
    _assert_logs_bounded_and_payload_free(captured)
    reasons = [json.loads(x)["reason"] for x in captured.splitlines() if '"record failed"' in x]
    assert reasons == [
        "hostile_plugin:handle raised ParamValidationError",
        "hostile_plugin:handle: racer 3 is not registered",
    ]


def test_a_reason_of_any_length_is_cut_in_the_log(
    handler_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = ModuleType("wordy_plugin")

    def handle(record: Any) -> None:
        raise PoisonRecord("this reason goes on " * 5_000)

    plugin.handle = handle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wordy_plugin", plugin)
    monkeypatch.setenv("RECORD_PROCESSOR", "wordy_plugin:handle")
    batch = race_batch(racers=1, seconds=1)
    assert _run(fresh_handler(), batch) == [_sequence(batch[0])]
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= LINE_LIMIT
    (line,) = [json.loads(x) for x in lines if '"record failed"' in x]
    assert len(line["reason"]) <= 300
    assert line["reason"].endswith("…")
