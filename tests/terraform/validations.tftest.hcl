# Every validation block, through expect_failures: each bad value must be refused at plan. A check
# of what the user writes runs at the root (README, "Where each input is declared"); the runs that
# name a child module test what that child re-checks for a caller who calls it alone. That an
# error names what the user wrote (consumers["key"]) is tested on the message itself in
# tests/consumer (terraform test cannot read a message it expected).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name = "pipeline"
}

run "rejects_root_name_too_short" {
  command = plan

  variables {
    name = "x"
  }

  expect_failures = [var.name]
}

run "rejects_root_name_with_spaces" {
  command = plan

  variables {
    name = "has spaces"
  }

  expect_failures = [var.name]
}

run "rejects_stream_name" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    name = "bad name!"
  }

  expect_failures = [var.name]
}

run "rejects_unknown_source_type" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    source_type = "sqs"
  }

  expect_failures = [var.source_type]
}

run "rejects_stream_mode" {
  command = plan

  variables {
    kinesis = { stream_mode = "BURST" }
  }

  expect_failures = [var.kinesis]
}

run "rejects_zero_shards" {
  command = plan

  variables {
    kinesis = { shard_count = 0 }
  }

  expect_failures = [var.kinesis]
}

run "rejects_fractional_shards" {
  command = plan

  variables {
    kinesis = { shard_count = 1.5 }
  }

  expect_failures = [var.kinesis]
}

run "rejects_retention_below_24_h" {
  command = plan

  variables {
    kinesis = { retention_hours = 23 }
  }

  expect_failures = [var.kinesis]
}

run "rejects_retention_above_8760_h" {
  command = plan

  variables {
    kinesis = { retention_hours = 8761 }
  }

  expect_failures = [var.kinesis]
}

run "rejects_unknown_shard_metric" {
  command = plan

  variables {
    kinesis = { shard_level_metrics = ["Latency"] }
  }

  expect_failures = [var.kinesis]
}

run "rejects_key_alias_instead_of_arn" {
  command = plan

  variables {
    kinesis = { kms_key_arn = "alias/mine" }
  }

  expect_failures = [var.kinesis]
}

run "rejects_stream_view_type" {
  command = plan

  variables {
    dynamodb = { stream_view_type = "ALL" }
  }

  expect_failures = [var.dynamodb]
}

run "rejects_table_arn_instead_of_stream_arn" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    dynamodb = { create_table = false, existing_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/t" }
  }

  expect_failures = [var.dynamodb]
}

run "rejects_key_type" {
  command = plan

  variables {
    dynamodb = { hash_key_type = "BOOL" }
  }

  expect_failures = [var.dynamodb]
}

run "rejects_billing_mode" {
  command = plan

  variables {
    dynamodb = { billing_mode = "ON_DEMAND" }
  }

  expect_failures = [var.dynamodb]
}

run "rejects_capacity" {
  command = plan

  variables {
    dynamodb = { read_capacity = 0 }
  }

  expect_failures = [var.dynamodb]
}

run "rejects_function_name_length" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    name = "name-that-is-far-too-long-for-lambda-once-suffixes-are-added"
  }

  expect_failures = [var.name]
}

run "rejects_consumer_source_type" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    source_type = "kafka"
  }

  expect_failures = [var.source_type]
}

run "rejects_event_source_is_not_a_stream" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:q"
  }

  expect_failures = [var.event_source_arn]
}

run "rejects_stream_arn" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_arn = "not-an-arn"
  }

  expect_failures = [var.stream_arn]
}

run "rejects_consumer_retention" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_retention_hours = 12
  }

  expect_failures = [var.stream_retention_hours]
}

run "rejects_non_python_runtime" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { runtime = "nodejs20.x" }
  }

  expect_failures = [var.function]
}

run "rejects_old_python_runtime" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { runtime = "python3.9" }
  }

  expect_failures = [var.function]
}

run "rejects_architecture" {
  command = plan

  variables {
    function = { architecture = "i386" }
  }

  expect_failures = [var.function]
}

run "rejects_memory" {
  command = plan

  variables {
    function = { memory_mb = 64 }
  }

  expect_failures = [var.function]
}

run "rejects_timeout" {
  command = plan

  variables {
    function = { timeout_seconds = 901 }
  }

  expect_failures = [var.function]
}

run "rejects_reserved_concurrency_0_would_stop_the_function" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { reserved_concurrency = 0 }
  }

  expect_failures = [var.function]
}

run "rejects_log_retention" {
  command = plan

  variables {
    function = { log_retention_days = 10 }
  }

  expect_failures = [var.function]
}

run "rejects_log_level" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { log_level = "LOUD" }
  }

  expect_failures = [var.function]
}

run "rejects_record_processor" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { record_processor = "nope" }
  }

  expect_failures = [var.function]
}

run "rejects_batch_size_0" {
  command = plan

  variables {
    event_source_mapping = { batch_size = 0 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_batch_size_above_10_000" {
  command = plan

  variables {
    event_source_mapping = { batch_size = 10001 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_batching_window" {
  command = plan

  variables {
    event_source_mapping = { maximum_batching_window_seconds = 301 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_parallelization_factor_0" {
  command = plan

  variables {
    event_source_mapping = { parallelization_factor = 0 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_parallelization_factor_11" {
  command = plan

  variables {
    event_source_mapping = { parallelization_factor = 11 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_fractional_parallelization_factor" {
  command = plan

  variables {
    event_source_mapping = { parallelization_factor = 2.5 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_starting_position" {
  command = plan

  variables {
    event_source_mapping = { starting_position = "EARLIEST" }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_at_timestamp_without_a_timestamp" {
  command = plan

  variables {
    event_source_mapping = { starting_position = "AT_TIMESTAMP" }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_timestamp_without_at_timestamp" {
  command = plan

  variables {
    event_source_mapping = { starting_position_timestamp = "2026-11-23T08:00:00Z" }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_timestamp_format" {
  command = plan

  variables {
    event_source_mapping = { starting_position = "AT_TIMESTAMP", starting_position_timestamp = "yesterday" }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_infinite_retries" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_mapping = { maximum_retry_attempts = -1 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_record_age" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_mapping = { maximum_record_age_seconds = 30 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_filter_pattern" {
  command = plan

  variables {
    event_source_mapping = { filter_patterns = ["{not json"] }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_sink_billing_mode" {
  command = plan

  variables {
    sink = { billing_mode = "ON_DEMAND" }
  }

  expect_failures = [var.sink]
}

run "rejects_sink_capacity" {
  command = plan

  variables {
    sink = { write_capacity = 0 }
  }

  expect_failures = [var.sink]
}

run "rejects_dashboard_name" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    name = "bad name"
  }

  expect_failures = [var.name]
}

run "rejects_dashboard_source_type" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    source_type = "sqs"
  }

  expect_failures = [var.source_type]
}

run "rejects_dashboard_period" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    period_seconds = 30
  }

  expect_failures = [var.period_seconds]
}

run "rejects_alarms_name" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    name = "bad name"
  }

  expect_failures = [var.name]
}

run "rejects_alarms_source_type" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    source_type = "sqs"
  }

  expect_failures = [var.source_type]
}

run "rejects_alarms_retention" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    stream_retention_hours = 8761
  }

  expect_failures = [var.stream_retention_hours]
}

run "rejects_email_address" {
  command = plan

  variables {
    alarms = { email_addresses = ["oncall@example.com", "not-an-address"] }
  }

  expect_failures = [var.alarms]
}

run "rejects_duration_share" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    thresholds = { duration_share_of_timeout = 1.5 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_record_age_share_of_100" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    thresholds = { record_age_share = 1 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_replay_window_share_of_100" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    thresholds = { replay_window_share = 1 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_alarms_paging" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    paging = "everyone"
  }

  expect_failures = [var.paging]
}

run "rejects_alarms_topic_arn" {
  command = plan

  variables {
    alarms = { create_sns_topic = false, sns_topic_arn = "oncall" }
  }

  expect_failures = [var.alarms]
}

run "the_alarms_module_alone_needs_a_topic_to_notify" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    create_sns_topic = false
  }

  expect_failures = [var.sns_topic_arn]
}

run "rejects_alarms_maximum_record_age" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = { default = { function_name = "pipeline", maximum_record_age_seconds = 30 } }
  }

  expect_failures = [var.consumers]
}

run "rejects_a_consumer_key_that_cannot_name_alarms" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = { "Archive Team" = { function_name = "pipeline-archive" } }
  }

  expect_failures = [var.consumers]
}

run "rejects_a_star_resource_in_policy_statements" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Everything", actions = ["dynamodb:PutItem"], resources = ["*"] }] }
  }

  expect_failures = [var.function]
}

run "rejects_a_tumbling_window_beyond_15_minutes" {
  command = plan

  variables {
    event_source_mapping = { tumbling_window_seconds = 901 }
  }

  expect_failures = [var.event_source_mapping]
}

run "rejects_alarms_stopped_periods_of_zero" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    thresholds = { stopped_periods = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_root_sub_minute_alarm_period_without_local_emulator" {
  command = plan

  variables {
    alarms = { period_seconds = 10 }
  }

  expect_failures = [var.alarms]
}

run "rejects_root_silent_stream_look_back_over_a_day" {
  command = plan

  variables {
    alarms = { period_seconds = 3600, silent_stream = true, thresholds = { silent_stream_periods = 25 } }
  }

  expect_failures = [var.alarms]
}

run "rejects_root_alarm_paging" {
  command = plan

  variables {
    alarms = { paging = "everyone" }
  }

  expect_failures = [var.alarms]
}

run "rejects_silent_periods" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    thresholds = { silent_stream_periods = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_budget_limit" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    budget = { enabled = true, limit_usd = 0 }
  }

  expect_failures = [var.budget]
}

run "rejects_billing_threshold" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    billing_alarm = { enabled = true, threshold_usd = -1 }
  }

  expect_failures = [var.billing_alarm]
}

run "rejects_alarm_period" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    period_seconds = 90
  }

  expect_failures = [var.period_seconds]
}

run "rejects_two_package_sources" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    stream_arn       = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    function         = { package_path = "my.zip", s3_bucket = "artifacts", s3_key = "lambda.zip" }
  }

  expect_failures = [var.function]
}

run "rejects_s3_bucket_without_key" {
  command = plan

  variables {
    function = { s3_bucket = "artifacts" }
  }

  expect_failures = [var.function]
}

run "rejects_wildcard_policy_statement" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:*"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"] }] }
  }

  expect_failures = [var.function]
}

run "rejects_policy_statement_without_resources" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = [] }] }
  }

  expect_failures = [var.function]
}

run "rejects_failure_destination" {
  command = plan

  variables {
    on_failure_destination = "sns"
  }

  expect_failures = [var.on_failure_destination]
}

run "rejects_archive_days" {
  command = plan

  variables {
    on_failure_archive_days = 0
  }

  expect_failures = [var.on_failure_archive_days]
}
