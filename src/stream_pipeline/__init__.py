"""Stream pipeline consumer: a Lambda handler for Kinesis and DynamoDB Streams that never loses a record."""

__version__ = "0.2.0"
