"""The incident drills (tests/drills.py): every metric alarm of both examples fired by its incident,
every page read from a queue subscribed to the topic. They run in the background from the start of
the tier, on stacks of their own; this test waits for them and re-raises a drill's assertion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from concurrent.futures import Future

pytestmark = pytest.mark.drill


def test_every_alarm_of_both_examples_fires_on_its_incident_and_pages_once_per_incident(
    drills: list[Future[None]],
) -> None:
    assert drills, "the tier started the drills"
    for drill in drills:
        drill.result()  # re-raises the drill's assertion, with its message
