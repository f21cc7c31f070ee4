"""Local tooling of terraform-aws-stream-pipeline: LocalStack harness, load generator. Never in the Lambda zip."""
