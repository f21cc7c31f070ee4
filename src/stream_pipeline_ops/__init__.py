"""The operator package: ``stream-pipeline <command>`` for people running the pipeline.

What belongs here: commands that read or drive a deployed pipeline through the AWS APIs, in a
real account or, with the same code, against LocalStack (endpoint and credentials come from the
standard AWS variables): ``doctor`` (findings with evidence and a fix), ``load`` (the Alleycat
race). Not here: the Lambda code (``stream_pipeline``, what the zip carries) and the local
development harness (``stream_pipeline_local``: LocalStack install, start, stop, ``make up``).
"""

from stream_pipeline import __version__

__all__ = ["__version__"]
