# The Alleycat race of the AWS Compute Blog post (seed 002), sized for 1,000 racers sending one
# message a second each: 1,000 records/s of ~200 bytes, 300,000 records per 5-minute race.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "terraform-aws-stream-pipeline", Example = "kinesis-alleycat" }
  }
}

module "pipeline" {
  source = "../.."

  enabled     = var.enabled
  name        = var.name
  source_type = "kinesis"

  # The sizing is `stream-pipeline plan --avg-rps 1000 --record-bytes 200 --keys 1000` (the race);
  # tests/unit/test_planner.py keeps these values equal to the planner's.
  kinesis = {
    # One shard takes 1,000 records/s: the post's single shard ran at ~100% and its iterator age
    # grew. Two shards leave half the write capacity free (bytes are far below 1 MiB/s per shard).
    stream_mode      = "PROVISIONED"
    shard_count      = 2
    retention_hours  = 24
    enhanced_fan_out = false # one consumer: the shared read throughput is enough
  }

  function = {
    # The post's function ran past its timeout on large batches; 256 MB doubles the CPU of 128 MB
    # for the JSON decoding, and 30 s leaves room for a throttled sink to be retried.
    memory_mb       = 256
    timeout_seconds = 30
    # No reservation: Lambda refuses one that leaves under 100 unreserved, which a new account's
    # quota cannot give. With the quota, reserve >= shards (2) x parallelization factor (2).
    reserved_concurrency = -1
    record_processor     = "alleycat"
  }

  event_source_mapping = {
    # ~500 records per shard per second: one batch a second per shard, one write per racer.
    batch_size                      = 1000
    maximum_batching_window_seconds = 1
    parallelization_factor          = 2                              # the post's fix when the iterator age grows; order stays per racer
    maximum_record_age_seconds      = var.maximum_record_age_seconds # half the retention: the other half to replay a failure
    starting_position               = "LATEST"
  }

  # On-demand: the post's provisioned table throttled writes during the race.
  sink = { billing_mode = "PAY_PER_REQUEST" }

  alarms = {
    email_addresses = var.alarm_emails
    period_seconds  = var.alarm_period_seconds
    local_emulator  = var.local_emulator
  }
}
