"""Stream pipeline consumer: a Lambda handler for Kinesis and DynamoDB Streams that never loses a record.

The Lambda package: exactly what the zip carries (with Powertools), nothing else. The operator
command lives in ``stream_pipeline_ops``, the local harness in ``stream_pipeline_local``.
"""

__version__ = "0.2.0"
