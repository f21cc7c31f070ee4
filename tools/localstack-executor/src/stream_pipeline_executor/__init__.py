"""A LocalStack Lambda runtime executor that runs Python functions as local processes (no Docker).

Local tooling of terraform-aws-stream-pipeline; never part of the Lambda zip.
"""
