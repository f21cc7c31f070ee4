"""Runtime configuration, parsed once at cold start into a frozen object.

Every setting comes from an environment variable. A missing or malformed value
raises :class:`ConfigError` with one message that names the variable, so that a
misconfigured function fails its init phase loudly instead of losing records.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from stream_pipeline.limits import LAMBDA_MAX_MEMORY_MB, LAMBDA_MIN_MEMORY_MB, max_user_records_per_aggregate

if TYPE_CHECKING:
    from collections.abc import Mapping

BUILTIN_PROCESSORS: Final = ("alleycat", "alleycat-window", "archive", "audit")
_CUSTOM_PROCESSOR = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_NAMESPACE = re.compile(r"^[^:][^:]{0,254}$")
_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """An environment variable is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings of one execution environment."""

    sink_table_name: str | None
    record_processor: str | None
    """``alleycat``, ``alleycat-window`` (tumbling windows), ``archive`` (the raw records), ``audit``,
    ``package.module:name`` (a
    function, or an object with ``fold`` and ``finish`` for windows), or None to pick by source."""
    metrics_namespace: str
    service_name: str
    log_level: str
    max_record_bytes: int
    """Records whose payload is larger than this are rejected (poison), never processed."""
    audit_ttl_days: int
    """Days that an audit change item or an archived record lives before DynamoDB's TTL removes it."""
    sink_write_concurrency: int
    """Parallel sink writes per invocation (one boto3 client, a small thread pool)."""
    safety_margin_ms: int
    """Time kept back from the Lambda deadline to report failures instead of timing out."""
    memory_mb: int = LAMBDA_MIN_MEMORY_MB
    """The function's memory (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, which Lambda sets; 128 elsewhere)."""

    @property
    def max_user_records(self) -> int:
        """The most user records per KPL aggregate, and per chunk of a batch, for this memory."""
        return max_user_records_per_aggregate(self.memory_mb)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number between {low} and {high}, got {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number between {low} and {high}, got {raw!r}.")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse and validate the environment; raise :class:`ConfigError` naming the culprit."""
    env = os.environ if env is None else env

    table = env.get("SINK_TABLE_NAME") or None
    if table is not None and not _TABLE_NAME.match(table):
        raise ConfigError(f"SINK_TABLE_NAME must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got {table!r}.")

    processor = env.get("RECORD_PROCESSOR") or None
    if processor is not None and processor not in BUILTIN_PROCESSORS and not _CUSTOM_PROCESSOR.match(processor):
        raise ConfigError(
            "RECORD_PROCESSOR must be `alleycat`, `alleycat-window`, `archive`, `audit` or `package.module:function`, "
            f"got {processor!r}."
        )

    namespace = env.get("METRICS_NAMESPACE") or env.get("POWERTOOLS_METRICS_NAMESPACE") or "StreamPipeline"
    if not _NAMESPACE.match(namespace):
        raise ConfigError(f"METRICS_NAMESPACE must be 1-255 characters without ':', got {namespace!r}.")

    service = env.get("POWERTOOLS_SERVICE_NAME") or "stream-pipeline"

    level = (env.get("LOG_LEVEL") or env.get("POWERTOOLS_LOG_LEVEL") or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {level!r}.")

    return Settings(
        sink_table_name=table,
        record_processor=processor,
        metrics_namespace=namespace,
        service_name=service,
        log_level=level,
        max_record_bytes=_int(env, "MAX_RECORD_BYTES", 65_536, 1, 10 * 1024 * 1024),
        audit_ttl_days=_int(env, "AUDIT_TTL_DAYS", 30, 1, 3650),
        sink_write_concurrency=_int(env, "SINK_WRITE_CONCURRENCY", 8, 1, 64),
        safety_margin_ms=_int(env, "SAFETY_MARGIN_MS", 1_500, 0, 60_000),
        memory_mb=_int(
            env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", LAMBDA_MIN_MEMORY_MB, LAMBDA_MIN_MEMORY_MB, LAMBDA_MAX_MEMORY_MB
        ),
    )
