# modules/stream on its own.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name = "pipeline"
}

run "kinesis_defaults" {
  command = plan
  module {
    source = "./modules/stream"
  }

  assert {
    condition = (
      aws_kinesis_stream.this[0].encryption_type == "KMS" && aws_kinesis_stream.this[0].kms_key_id == "alias/aws/kinesis" &&
      aws_kinesis_stream.this[0].retention_period == 24 && aws_kinesis_stream.this[0].shard_count == 1 &&
      aws_kinesis_stream.this[0].stream_mode_details[0].stream_mode == "PROVISIONED" && length(aws_kinesis_stream.this[0].shard_level_metrics) == 0
    )
    error_message = "Kinesis defaults: encrypted with the AWS-managed key, 24 h, one provisioned shard, no paid shard metrics."
  }
  assert {
    condition     = length(aws_kinesis_stream_consumer.this) == 0 && length(aws_dynamodb_table.this) == 0
    error_message = "No fan-out consumer and no table by default."
  }
}

run "on_demand_has_no_shard_count" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    kinesis = { stream_mode = "ON_DEMAND", retention_hours = 168, kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k" }
  }

  assert {
    condition     = aws_kinesis_stream.this[0].shard_count == null && output.shard_count == null && output.retention_hours == 168 && output.kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/k"
    error_message = "On-demand streams have no shard count; retention and key pass through."
  }
}

run "dynamodb_table_with_stream" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    source_type = "dynamodb"
  }

  assert {
    condition = (
      aws_dynamodb_table.this[0].stream_enabled && aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES" &&
      aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    )
    error_message = "The source table has a NEW_AND_OLD_IMAGES stream, on-demand billing, PITR and encryption."
  }
  assert {
    condition     = length(aws_kinesis_stream.this) == 0 && output.retention_hours == 24 && output.stream_label == "2026-11-23T00:00:00.000"
    error_message = "DynamoDB Streams keep 24 h; no Kinesis stream."
  }
}

run "disabled_stream" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    enabled = false
  }

  assert {
    condition     = length(aws_kinesis_stream.this) + length(aws_kinesis_stream_consumer.this) + length(aws_dynamodb_table.this) == 0 && output.event_source_arn == null
    error_message = "A disabled stream module plans nothing."
  }
}

run "five_shared_consumers_fit_the_read_budget" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    consumers = { default = {}, a = {}, b = {}, c = {}, d = {}, e = { enhanced_fan_out = true } }
  }

  assert {
    condition     = length(terraform_data.read_budget[0].input.shared) == 5 && keys(aws_kinesis_stream_consumer.this) == ["e"]
    error_message = "Five shared consumers fit the shards' 5 GetRecords a second; the sixth, on enhanced fan-out, gets a registered consumer of its own."
  }
}

run "a_sixth_shared_consumer_is_refused" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    consumers = { default = {}, a = {}, b = {}, c = {}, d = {}, e = {} }
  }

  expect_failures = [terraform_data.read_budget]
}

run "a_dynamodb_stream_takes_two_readers" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    source_type = "dynamodb"
    consumers   = { default = {}, a = {}, b = {} }
  }

  expect_failures = [terraform_data.read_budget]
}

run "a_dynamodb_stream_has_no_enhanced_fan_out" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    source_type = "dynamodb"
    consumers   = { default = { enhanced_fan_out = true } }
  }

  expect_failures = [terraform_data.read_budget]
}

run "the_default_consumer_keeps_its_registered_name" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    consumers = { default = { enhanced_fan_out = true }, archive = { enhanced_fan_out = true } }
  }

  assert {
    condition     = aws_kinesis_stream_consumer.this["default"].name == "pipeline-consumer" && aws_kinesis_stream_consumer.this["archive"].name == "pipeline-archive"
    error_message = "The default consumer keeps 0.2's name (<name>-consumer), so an upgrade does not re-register it; others are named after their key."
  }
}
