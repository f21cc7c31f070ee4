"""Would a record pass now? The deployed processor's own validation, built from the function's
environment (``RECORD_PROCESSOR``, ``MAX_RECORD_BYTES``), answers with the reason the handler logs.

The verdict is the Lambda package's (``stream_pipeline.processors.check``), the handler's own parse
path: a KPL aggregate is deaggregated and each user record inside it checked, as the handler does;
one failing user record fails the aggregate, whose reason names it. An aggregate of more user
records than the function's memory allows (``Settings.max_user_records``, from its ``MemorySize``
as Lambda passes it in ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``) fails with the function's own
reason. The aggregate itself goes back to the function whole (its original sequence number and
bytes), never as its user records.

Only the built-in processors (``stream_pipeline.config.BUILTIN_PROCESSORS``) are imported by
themselves: the function's environment is read from AWS, and importing whatever module it names
would run that module's code on the operator's machine. A custom processor is imported only when
the operator names it with ``--processor``; ``--no-check`` skips the check (the function still
judges every record it is given).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stream_pipeline import processors
from stream_pipeline.config import BUILTIN_PROCESSORS, load_settings
from stream_pipeline.records import PoisonRecord
from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.target import RedriveError, Target

if TYPE_CHECKING:
    from collections.abc import Callable


def checker(target: Target, check: bool, processor: str | None = None) -> Callable[[dict[str, Any]], str | None]:
    """None when a record would pass, else the reason (payload-free, as the handler logs it)."""
    if not check:
        return lambda _record: None
    env = {k: v for k, v in target.environment.items() if k != "SINK_TABLE_NAME"}
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(target.memory_mb)  # as Lambda sets it: the function's cap
    deployed = env.get("RECORD_PROCESSOR") or ""
    if deployed and deployed not in BUILTIN_PROCESSORS:
        if processor is None:
            raise RedriveError(
                f"{target.function_name} runs the custom processor {shown(deployed, 120)}, which redrive imports on "
                f"this machine only when you name it: pass --processor {shown(deployed, 120)} (once you know that "
                "what it imports here is the code you deployed), or --no-check (the function still judges every "
                "record it is given)."
            )
        if processor not in (deployed, deployed.partition(":")[0]):
            raise RedriveError(
                f"--processor {shown(processor, 120)} is not the processor {target.function_name} runs "
                f"({shown(deployed, 120)}): refusing to judge its records with other code."
            )
    elif processor is not None:
        raise RedriveError(
            f"--processor names a custom processor, but {target.function_name} runs the built-in "
            f"{shown(deployed or 'default', 60)} processor: leave --processor out."
        )
    try:
        settings = load_settings(env)
        built = processors.build(settings, target.source)
    except Exception as exc:
        raise RedriveError(
            f"Cannot load the deployed processor here ({type(exc).__name__}: {shown(str(exc), 200)}); install it, "
            "or pass --no-check."
        ) from None

    def reason(record: dict[str, Any]) -> str | None:
        try:
            processors.check(built, record, settings.max_user_records)
        except PoisonRecord as exc:
            return str(exc)
        return None

    return reason
