# The Alleycat race with two consumers of one stream (seed 002's last section): the leaderboard
# (the `alleycat` processor, the default consumer) and an archive of every raw message (the
# `archive` processor, a consumer of its own). The archive reads through enhanced fan-out: its own
# 2 MiB/s per shard and ~70 ms, so it never takes the leaderboard's reads; the leaderboard shares
# the stream's read budget with nobody else.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "terraform-aws-stream-pipeline", Example = "kinesis-fan-out" }
  }
}

module "pipeline" {
  source = "../.."

  enabled     = var.enabled
  name        = var.name
  source_type = "kinesis"

  # The race's sizing (`stream-pipeline plan --avg-rps 1000 --record-bytes 200 --keys 1000
  # --consumer leaderboard --consumer archive:low-latency`); tests/unit/test_planner.py keeps these
  # values equal to the planner's.
  kinesis = {
    stream_mode      = "PROVISIONED"
    shard_count      = 2
    retention_hours  = 24
    enhanced_fan_out = false # the leaderboard: the only reader of the shared budget
  }

  # The leaderboard, as in examples/kinesis-alleycat.
  function = {
    memory_mb            = 256
    timeout_seconds      = 30
    reserved_concurrency = -1
    record_processor     = "alleycat"
  }

  event_source_mapping = {
    batch_size                      = 1000
    maximum_batching_window_seconds = 1
    parallelization_factor          = 2
    maximum_record_age_seconds      = var.maximum_record_age_seconds
    starting_position               = "LATEST"
  }

  sink = { billing_mode = "PAY_PER_REQUEST" }

  # The archive inherits the settings above and overrides its processor; it gets its own function
  # (<name>-archive), mapping, failure queue, sink table, alarms and dashboard row.
  consumers = {
    archive = {
      enhanced_fan_out = var.archive_enhanced_fan_out
      function         = { record_processor = "archive" }
    }
  }

  alarms = {
    email_addresses = var.alarm_emails
    period_seconds  = var.alarm_period_seconds
    local_emulator  = var.local_emulator
  }
}
