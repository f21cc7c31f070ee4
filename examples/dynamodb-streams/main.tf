# The DynamoDB Streams monitoring workshop (seed 000): a table with a stream, a Lambda processor,
# a dashboard, alarms on errors, latency and stream lag, SNS email alerts and cost guardrails.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "terraform-aws-stream-pipeline", Example = "dynamodb-streams" }
  }
}

module "pipeline" {
  source = "../.."

  enabled     = var.enabled
  name        = var.name
  source_type = "dynamodb"

  dynamodb = {
    stream_view_type = "NEW_AND_OLD_IMAGES"
    hash_key         = "id"
  }

  function = {
    # The workshop's "optimal Free Tier configuration": 128 MB, 30 s. Not its concurrency of 10:
    # Lambda refuses a reservation that leaves under 100 unreserved, and a new (Free Tier) account's
    # whole quota is smaller than that, so the workshop's own audience could not apply it.
    memory_mb        = 128
    timeout_seconds  = 30
    record_processor = "audit"
  }

  event_source_mapping = {
    # The workshop's batch of 10, and only INSERT and MODIFY (deletes need no processing here).
    batch_size        = 10
    starting_position = "LATEST"
    filter_patterns   = [jsonencode({ eventName = ["INSERT", "MODIFY"] })]
  }

  # DynamoDB Streams keep records 24 hours: a queue message naming a sequence range is useless a
  # day later, so failures are archived with the records themselves, for stream-pipeline redrive.
  on_failure_destination = "s3"

  alarms = {
    email_addresses = var.alarm_emails
    period_seconds  = var.alarm_period_seconds
    local_emulator  = var.local_emulator
    budget          = { enabled = var.budget_enabled, limit_usd = 5 }
  }
}
