"""Stream pipeline consumer: a Lambda handler for Kinesis and DynamoDB Streams that never loses a record.

The Lambda package: exactly what the zip carries (with Powertools), nothing else. The operator
command lives in ``stream_pipeline_ops``, the local harness in ``stream_pipeline_local``.
"""

from pathlib import Path


def _version() -> str:
    """The repository's VERSION file, the version's one source: the Lambda zip carries it beside this
    module (scripts/package.py); an installed package has it in its metadata, which setuptools took
    from the same file."""
    carried = Path(__file__).with_name("VERSION")
    if carried.is_file():
        return carried.read_text().strip()
    from importlib import metadata  # noqa: PLC0415 - only where the file is not carried

    return metadata.version("stream-pipeline")


__version__ = _version()
