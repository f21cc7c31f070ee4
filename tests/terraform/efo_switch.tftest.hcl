# Switching a consumer between the stream's shared throughput and enhanced fan-out replaces its event
# source mapping (event_source_arn forces a new one). With starting_position LATEST the new mapping
# would start at the tip and skip the backlog and every record put during the switch, so the plan of
# such a switch on an applied stack is refused; a switch that says where the new mapping starts
# plans. Each run plans or applies (mocked) onto the state the previous run of its module left.
#
# `expect_failures` can name a resource of the module under test only, so the refusals are tested on
# modules/consumer, with the input names the root passes for a consumers entry; the root's runs check
# that its wiring plans a first apply and a switch that says where to start.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name = "pipeline"
}

# modules/consumer, as the root calls it for consumers["archive"].

run "consumer_first_apply_at_latest_is_not_refused" {
  command = apply
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    stream_arn       = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    input_names      = { enhanced_fan_out = "consumers[\"archive\"].enhanced_fan_out", event_source_mapping = "consumers[\"archive\"].event_source_mapping" }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].starting_position == "LATEST"
    error_message = "A first mapping starts at LATEST, as the default says."
  }
}

run "consumer_switch_to_fan_out_at_latest_is_refused" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn               = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000000"
    stream_arn                     = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    enhanced_fan_out_consumer_name = "pipeline-archive"
    input_names                    = { enhanced_fan_out = "consumers[\"archive\"].enhanced_fan_out", event_source_mapping = "consumers[\"archive\"].event_source_mapping" }
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "consumer_switch_to_fan_out_at_a_timestamp_plans" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn               = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000000"
    stream_arn                     = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    enhanced_fan_out_consumer_name = "pipeline-archive"
    event_source_mapping           = { starting_position = "AT_TIMESTAMP", starting_position_timestamp = "2026-12-06T02:00:00Z" }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].event_source_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000000"
    error_message = "The switched mapping reads the fan-out consumer."
  }
}

run "consumer_switch_to_fan_out_from_the_trim_horizon_applies" {
  command = apply
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn               = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000000"
    stream_arn                     = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    enhanced_fan_out_consumer_name = "pipeline-archive"
    event_source_mapping           = { starting_position = "TRIM_HORIZON" }
  }

  assert {
    condition     = terraform_data.mapping_read_path[0].output == "the enhanced fan-out consumer \"pipeline-archive\""
    error_message = "Setting the position records the read path of the moment."
  }
}

run "consumer_position_back_to_latest_after_the_switch_is_not_refused" {
  command = apply
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn               = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/pipeline-archive:1700000000"
    stream_arn                     = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    enhanced_fan_out_consumer_name = "pipeline-archive"
  }

  assert {
    condition     = terraform_data.mapping_read_path[0].output == "the enhanced fan-out consumer \"pipeline-archive\""
    error_message = "The read path recorded is still the mapping's."
  }
}

run "consumer_switch_back_to_shared_at_latest_is_refused" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
    stream_arn       = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

# The root: what it passes the consumer module.

run "root_first_apply_at_latest_is_not_refused" {
  command = apply

  variables {
    kinesis   = { shard_count = 1, enhanced_fan_out = false }
    consumers = { archive = { enhanced_fan_out = false, function = { record_processor = "archive" } } }
  }

  assert {
    condition     = output.consumers["archive"].event_source_arn == output.stream_arn && output.consumers["default"].event_source_arn == output.stream_arn
    error_message = "Both consumers read the stream with shared throughput."
  }
}

run "root_switch_to_fan_out_that_says_where_to_start_plans" {
  command = plan

  variables {
    kinesis              = { shard_count = 1, enhanced_fan_out = true }
    event_source_mapping = { starting_position = "TRIM_HORIZON" }
    consumers = {
      archive = {
        enhanced_fan_out     = true
        function             = { record_processor = "archive" }
        event_source_mapping = { starting_position = "AT_TIMESTAMP", starting_position_timestamp = "2026-12-06T02:00:00Z" }
      }
    }
  }

  assert {
    condition     = output.consumers["archive"].kinesis_consumer_name == "pipeline-archive" && output.consumers["default"].kinesis_consumer_name == "pipeline-consumer"
    error_message = "Both consumers switch to their fan-out consumers."
  }
}

run "root_a_consumer_added_with_fan_out_at_latest_is_not_refused" {
  command = plan

  variables {
    kinesis = { shard_count = 1, enhanced_fan_out = false }
    consumers = {
      archive = { enhanced_fan_out = false, function = { record_processor = "archive" } }
      audit   = { enhanced_fan_out = true, function = { record_processor = "audit" } }
    }
  }

  assert {
    condition     = output.consumers["audit"].kinesis_consumer_name == "pipeline-audit"
    error_message = "A new consumer reads its fan-out consumer from the start."
  }
}
