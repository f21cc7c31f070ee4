# kinesis.existing_stream_arn: a stream the module does not own (another stack's, another
# repository's, another account's) is consumed, never created or changed.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name = "pipeline"
}

run "another_accounts_stream_is_consumed_and_its_owner_gets_the_resource_policy" {
  command = plan

  variables {
    kinesis            = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:210987654321:stream/orders", shard_count = 3 }
    operator_role_arns = ["arn:aws:iam::123456789012:role/oncall"]
  }

  assert {
    condition = (
      output.stream_arn == "arn:aws:kinesis:eu-west-1:210987654321:stream/orders" && output.stream_name == "orders" &&
      output.event_source_arn == output.stream_arn && output.consumers["default"].event_source_arn == output.stream_arn &&
      module.stream.stream_created == false && module.stream.shard_count == 3
    )
    error_message = "The mapping reads the given stream; the module creates none, and the given shard count is the one the consumers and the dashboard are sized with."
  }
  assert {
    condition     = one([for st in jsondecode(module.consumer["default"].role_policy_json).Statement : st.Resource if st.Sid == "ReadThisStream"]) == ["arn:aws:kinesis:eu-west-1:210987654321:stream/orders"]
    error_message = "The consumer role's statements name the other account's stream."
  }
  assert {
    condition = (
      jsondecode(output.kinesis_resource_policy_json).Statement[0].Principal.AWS == ["arn:aws:iam::123456789012:role/pipeline-role"] &&
      jsondecode(output.kinesis_resource_policy_json).Statement[0].Resource == "arn:aws:kinesis:eu-west-1:210987654321:stream/orders" &&
      toset(jsondecode(output.kinesis_resource_policy_json).Statement[0].Action) == toset(["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]) &&
      jsondecode(output.kinesis_resource_policy_json).Statement[1].Principal.AWS == ["arn:aws:iam::123456789012:role/oncall"] &&
      !contains(jsondecode(output.kinesis_resource_policy_json).Statement[1].Action, "kinesis:PutRecord")
    )
    error_message = "The owner applies a resource policy that lets each consumer role read the stream, and the operators read it for redrive (never write)."
  }
  assert {
    condition     = !contains(keys(output.alarm_names), "kinesis-write-throughput-exceeded") && !contains(keys(output.alarm_names), "kinesis-read-throughput-exceeded") && module.stream.stream_watched == false
    error_message = "The stream's own alarms and widgets are its owner's unless kinesis.watch_existing_stream says otherwise (in another account, its metrics are there)."
  }
}

run "a_stream_of_the_same_account_can_be_watched_here_too" {
  command = plan

  variables {
    kinesis = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", shard_count = 3, watch_existing_stream = true }
  }

  assert {
    condition     = contains(keys(output.alarm_names), "kinesis-write-throughput-exceeded") && contains(keys(output.alarm_names), "kinesis-read-throughput-exceeded") && module.stream.stream_watched
    error_message = "With watch_existing_stream, the stream-level alarms and widgets are this stack's too."
  }
}

run "a_stream_the_module_creates_needs_no_resource_policy" {
  command = plan

  assert {
    condition     = output.kinesis_resource_policy_json == null && module.stream.stream_created && module.stream.stream_watched
    error_message = "Only an existing stream has an owner to apply a resource policy."
  }
}

run "enhanced_fan_out_consumers_register_on_the_existing_stream" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    kinesis   = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", shard_count = 4 }
    consumers = { default = {}, archive = { enhanced_fan_out = true } }
  }

  assert {
    condition = (
      length(aws_kinesis_stream.this) == 0 && keys(aws_kinesis_stream_consumer.this) == ["archive"] &&
      aws_kinesis_stream_consumer.this["archive"].stream_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/orders" &&
      output.event_source_arns["default"] == "arn:aws:kinesis:eu-west-1:123456789012:stream/orders" && output.shard_count == 4
    )
    error_message = "No stream is created; the enhanced fan-out consumer is registered on the given stream, and the shared reader reads it."
  }
}

run "the_read_budget_counts_the_consumers_of_an_existing_stream" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    kinesis   = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", shard_count = 4 }
    consumers = { default = {}, a = {}, b = {}, c = {}, d = {}, e = {} }
  }

  expect_failures = [terraform_data.read_budget]
}

run "an_existing_stream_needs_its_shard_count" {
  command = plan

  variables {
    kinesis = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders" }
  }

  expect_failures = [var.kinesis]
}

run "an_existing_stream_needs_create_stream_false" {
  command = plan

  variables {
    kinesis = { existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", shard_count = 2 }
  }

  expect_failures = [var.kinesis]
}

run "create_stream_false_needs_the_stream" {
  command = plan

  variables {
    kinesis = { create_stream = false, shard_count = 2 }
  }

  expect_failures = [var.kinesis]
}

run "an_existing_streams_shard_metrics_are_its_owners" {
  command = plan

  variables {
    kinesis = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", shard_count = 2, shard_level_metrics = ["IncomingRecords"] }
  }

  expect_failures = [var.kinesis]
}

run "an_existing_stream_arn_is_a_kinesis_stream_arn" {
  command = plan

  variables {
    kinesis = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/c:1", shard_count = 2 }
  }

  expect_failures = [var.kinesis]
}

run "the_stream_module_alone_refuses_an_existing_stream_without_its_shard_count" {
  command = plan
  module {
    source = "./modules/stream"
  }

  variables {
    kinesis = { create_stream = false, existing_stream_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders" }
  }

  expect_failures = [var.kinesis]
}

run "an_existing_table_stream_needs_create_table_false" {
  command = plan

  variables {
    source_type = "dynamodb"
    dynamodb    = { existing_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000" }
  }

  expect_failures = [var.dynamodb]
}
