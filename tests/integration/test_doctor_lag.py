"""The doctor names the lag of a consumer that has fallen behind on LocalStack, which publishes no
IteratorAge for its mappings: it reads the handler's ProcessingLatency and says so. The consumer is
made at the tier's start (tests/lag_backlog.py, the conftest's ``lag_backlog`` fixture): records put
while nothing read the stream, a consumer attached 40 s later at TRIM_HORIZON."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from stack_support import client, wait_for
from stream_pipeline_ops import doctor

if TYPE_CHECKING:
    from concurrent.futures import Future

    from lag_backlog import Behind

BEHIND = "the consumer is falling behind"


def test_the_doctor_names_the_lag_from_the_handlers_processing_latency(lag_backlog: Future[Behind]) -> None:
    behind = lag_backlog.result(timeout=400)
    assert behind.behind_s >= 30

    def lag() -> list[doctor.Finding]:
        return [f for f in doctor.diagnose(client, behind.function_name, minutes=10).findings if f.title == BEHIND]

    (finding,) = wait_for(lag, lambda found: len(found) == 1, timeout=90, every=5)
    assert finding.severity == doctor.Severity.WARNING
    prefix = f"ProcessingLatency (StreamPipeline, SourceType=kinesis, service={behind.function_name}; "
    assert finding.evidence.startswith(prefix + "no IteratorAge published) max "), finding.evidence
    seconds = float(re.search(r"max ([\d,.]+) s", finding.evidence).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert seconds >= 30, finding.evidence
    assert "On a local emulator (http://127.0.0.1:" in finding.fix
