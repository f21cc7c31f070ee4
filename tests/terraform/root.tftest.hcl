# The root module's wiring, per source type, through its outputs (children's resources are tested
# in their own files, which run the child module directly).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name = "pipeline"
}

run "kinesis_wiring" {
  command = plan

  assert {
    condition     = output.stream_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    error_message = "The root must expose the Kinesis stream ARN."
  }
  assert {
    condition     = output.event_source_arn == output.stream_arn
    error_message = "Without enhanced fan-out the mapping must read the stream itself."
  }
  assert {
    condition     = output.on_failure_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:pipeline-failures"
    error_message = "The on-failure queue must be wired through."
  }
  assert {
    condition = toset(keys(output.alarm_names)) == toset([
      "lambda-errors", "records-failed", "lambda-throttles", "lambda-duration", "iterator-age", "record-age", "consumer-stopped",
      "dropped-events", "failed-invoke-events", "on-failure-delivered", "destination-delivery-failures",
      "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded", "sink-write-throttles",
      "on-failure-queue", "failure-replay-window",
    ])
    error_message = "A Kinesis pipeline with a sink gets exactly these alarms (silent stream is opt-in)."
  }
  assert {
    condition     = length(output.composite_alarm_names) == 3 && output.composite_alarm_names["failing"] == "pipeline-failing" && output.composite_alarm_names["behind"] == "pipeline-behind" && output.composite_alarm_names["lost"] == "pipeline-lost"
    error_message = "The incident composites are wired through."
  }
  assert {
    condition = (
      output.stream_pipeline.module == "terraform-aws-stream-pipeline" &&
      output.stream_pipeline.consumers["default"].function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:pipeline" &&
      output.stream_pipeline.consumers["default"].on_failure_destination_arn == "arn:aws:sqs:eu-west-1:123456789012:pipeline-failures" &&
      output.stream_pipeline.stream_arn == output.stream_arn &&
      output.redrive_ledger_table_name == "pipeline-redrive-ledger"
    )
    error_message = "The stream_pipeline output carries the marker the operator command checks and every ARN it checks against the session; the ledger is the stack's own table."
  }
  assert {
    condition     = output.maximum_record_age_seconds == 43200
    error_message = "The effective maximum record age reaches the root (and the alarms)."
  }
  assert {
    condition     = output.dashboard_url == "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=pipeline-eu-west-1"
    error_message = "The dashboard URL must point at this region's console."
  }
  assert {
    condition     = output.sink_table_name == "pipeline-sink"
    error_message = "The sink is created by default."
  }
}

run "extension_points_are_outputs" {
  command = plan

  assert {
    condition = (
      output.role_arn == "arn:aws:iam::123456789012:role/pipeline-role" && output.role_name == "pipeline-eu-west-1" &&
      output.log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pipeline" &&
      output.sink_table_arn != null && output.source_table_arn == null && output.dashboard_name == "pipeline-eu-west-1"
    )
    error_message = "A team extends the stack from the role, log group, tables and mapping outputs; global names carry the region."
  }
}

run "kinesis_with_enhanced_fan_out" {
  command = plan

  variables {
    kinesis = { enhanced_fan_out = true }
  }

  assert {
    condition     = output.event_source_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-consumer:1700000000"
    error_message = "With enhanced fan-out the mapping must read through the registered consumer."
  }
  assert {
    condition     = output.stream_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    error_message = "The stream ARN stays the stream's."
  }
  assert {
    condition     = contains(keys(output.alarm_names), "kinesis-subscribe-rate-exceeded") && !contains(keys(output.alarm_names), "kinesis-read-throughput-exceeded")
    error_message = "The root passes the consumer's name on, so the alarms watch the subscription."
  }
}

run "dynamodb_wiring" {
  command = plan

  variables {
    source_type = "dynamodb"
  }

  assert {
    condition     = output.stream_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline/stream/2026-11-23T00:00:00.000"
    error_message = "A DynamoDB source must expose the table's stream ARN."
  }
  assert {
    condition     = !contains(keys(output.alarm_names), "kinesis-write-throughput-exceeded") && !contains(keys(output.alarm_names), "kinesis-read-throughput-exceeded")
    error_message = "A DynamoDB source has no Kinesis alarms."
  }
}

run "existing_table_stream" {
  command = plan

  variables {
    source_type = "dynamodb"
    dynamodb    = { create_table = false, existing_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000" }
  }

  assert {
    condition     = output.stream_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"
    error_message = "An existing table's stream must be consumed as given."
  }
  assert {
    condition     = output.stream_name == "orders"
    error_message = "The table name must be read from the stream ARN."
  }
}

run "disabled_creates_nothing" {
  command = plan

  variables {
    enabled = false
  }

  assert {
    condition = alltrue([for v in [
      output.stream_arn, output.function_name, output.function_arn, output.on_failure_queue_url, output.on_failure_queue_arn,
      output.sink_table_name, output.sns_topic_arn, output.dashboard_name, output.dashboard_url, output.log_group_name,
    ] : v == null]) && length(output.alarm_names) == 0 && length(output.composite_alarm_names) == 0
    error_message = "With enabled = false every output must be empty."
  }
}

run "a_second_consumer_on_enhanced_fan_out" {
  command = plan

  variables {
    consumers = {
      archive = { enhanced_fan_out = true, sink = { create = false } }
    }
  }

  override_resource {
    override_during = plan
    target          = module.stream.aws_kinesis_stream_consumer.this["archive"]
    values          = { arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000001" }
  }
  override_resource {
    override_during = plan
    target          = module.consumer["archive"].aws_lambda_function.this
    values          = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-archive" }
  }

  assert {
    condition     = keys(output.consumers) == ["archive", "default"] && output.consumers["archive"].function_name == "pipeline-archive" && output.function_name == "pipeline"
    error_message = "Each entry of consumers is a consumer of its own, named after its key; the default consumer keeps the pipeline's name (and the singular outputs)."
  }
  assert {
    condition = (
      output.consumers["archive"].event_source_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000001" &&
      output.consumers["archive"].kinesis_consumer_name == "pipeline-archive" &&
      output.consumers["default"].event_source_arn == output.stream_arn &&
      output.shared_read_consumers == ["default"]
    )
    error_message = "The enhanced fan-out consumer's mapping reads its registered consumer; the default one shares the stream's read budget."
  }
  assert {
    condition = (
      output.alarm_names["archive/record-age"] == "pipeline-archive-record-age" &&
      output.alarm_names["record-age"] == "pipeline-record-age" &&
      contains(keys(output.alarm_names), "archive/kinesis-subscribe-rate-exceeded") &&
      !contains(keys(output.alarm_names), "kinesis-subscribe-rate-exceeded") &&
      !contains(keys(output.alarm_names), "archive/sink-write-throttles") &&
      length([for k in keys(output.alarm_names) : k if endswith(k, "kinesis-write-throughput-exceeded")]) == 1 &&
      length([for k in keys(output.alarm_names) : k if endswith(k, "kinesis-read-throughput-exceeded")]) == 1
    )
    error_message = "Each consumer has its own alarms (the archive's prefixed `archive/`, named after its function); the stream's alarms exist once."
  }
  assert {
    condition     = output.composite_alarm_names["archive/lost"] == "pipeline-archive-lost" && output.composite_alarm_names["lost"] == "pipeline-lost"
    error_message = "Each consumer's incidents page through composites of its own."
  }
  assert {
    condition = (
      keys(output.stream_pipeline.consumers) == ["archive", "default"] &&
      output.stream_pipeline.consumers["archive"].function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-archive" &&
      output.stream_pipeline.consumers["archive"].event_source_arn == output.consumers["archive"].event_source_arn
    )
    error_message = "The operator command sees every consumer in the stream_pipeline output."
  }
  assert {
    condition     = output.consumers["archive"].sink_table_name == null && output.consumers["default"].sink_table_name == "pipeline-sink"
    error_message = "Each consumer has its own sink settings."
  }
}

run "the_default_key_is_the_top_level_consumer" {
  command = plan

  variables {
    consumers = { default = {} }
  }

  expect_failures = [var.consumers]
}

run "consumer_keys_are_lower_case_names" {
  command = plan

  variables {
    consumers = { Archive_1 = {} }
  }

  expect_failures = [var.consumers]
}

run "a_consumer_inherits_the_default_consumers_settings_and_overrides_its_own" {
  command = plan

  variables {
    function             = { timeout_seconds = 60 }
    event_source_mapping = { maximum_record_age_seconds = 3600, metrics = false }
    consumers = {
      archive = { function = { timeout_seconds = 120 }, event_source_mapping = { maximum_record_age_seconds = 7200 } }
    }
  }

  assert {
    condition     = module.consumer["archive"].function_timeout_seconds == 120 && module.consumer["default"].function_timeout_seconds == 60
    error_message = "An entry overrides the function settings it gives."
  }
  assert {
    condition = (
      module.consumer["archive"].maximum_record_age_seconds == 7200 && module.consumer["default"].maximum_record_age_seconds == 3600 &&
      module.consumer["archive"].event_source_mapping_metrics == false
    )
    error_message = "An entry's mapping overrides its maximum record age and inherits the rest (metrics off) from the top-level mapping."
  }
}
