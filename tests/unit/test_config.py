"""Configuration errors name the variable, in one clear message, at cold start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stream_pipeline.config import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.sink_table_name is None
    assert settings.record_processor is None
    assert settings.metrics_namespace == "StreamPipeline"
    assert settings.log_level == "INFO"
    assert settings.max_record_bytes == 65_536


def test_settings_are_frozen() -> None:
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.log_level = "DEBUG"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SINK_TABLE_NAME", "no spaces allowed"),
        ("SINK_TABLE_NAME", "ab"),
        ("RECORD_PROCESSOR", "alleycats"),
        ("RECORD_PROCESSOR", "module.without.function"),
        ("METRICS_NAMESPACE", "has:colon"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_RECORD_BYTES", "big"),
        ("MAX_RECORD_BYTES", "0"),
        ("AUDIT_TTL_DAYS", "-1"),
        ("SINK_WRITE_CONCURRENCY", "1000"),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must .*{value!r}"):
        load_settings({name: value})


def test_custom_processor_spec_is_accepted() -> None:
    assert load_settings({"RECORD_PROCESSOR": "team.records:handle"}).record_processor == "team.records:handle"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"RECORD_PROCESSOR": "nowhere.to_be:found"}, "RECORD_PROCESSOR='nowhere.to_be:found': cannot import"),
    ],
)
def test_a_bad_environment_fails_the_cold_start_with_the_message(env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import stream_pipeline.handler"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr.splitlines()[-1]
