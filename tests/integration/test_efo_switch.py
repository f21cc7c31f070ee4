"""A consumer switched from the stream's shared throughput to enhanced fan-out on LocalStack while
records are put all along (tests/efo_switch.py, started with the tier on a stack of its own): the
plan of the switch at LATEST is refused, naming the inputs as written, and the switch from the
position the refusal asks for (TRIM_HORIZON here: LocalStack's mappings do not honour AT_TIMESTAMP)
loses no record put before, during or after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from concurrent.futures import Future

    from efo_switch import Outcome

pytestmark = pytest.mark.efo_switch


def test_a_switch_to_enhanced_fan_out_during_a_race_loses_no_record(efo_switch: Future[Outcome] | None) -> None:
    assert efo_switch is not None, "the tier started the switch"
    outcome = efo_switch.result()  # re-raises the switch's own assertion, with its message

    refusal = " ".join(outcome.refusal.split())
    assert "Resource precondition failed" in refusal, outcome.refusal[-3000:]
    assert "The kinesis.enhanced_fan_out change moves the event source mapping of it-efoswitch" in refusal
    position = "event_source_mapping.starting_position"
    assert f'Set {position} = "AT_TIMESTAMP" with {position}_timestamp = a time before the switch' in refusal

    assert outcome.event_source_arn.startswith(f"{outcome.stream_arn}/consumer/"), "it reads the fan-out consumer"
    assert outcome.put_during_switch > 0, "records were put while the switch was applied"
    assert outcome.missing == [], f"{len(outcome.missing)} of {len(outcome.put)} records put never reached the sink"
