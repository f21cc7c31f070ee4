# References work everywhere: a root that declares its table, stream, topic, keys, subnets, security
# groups, boundary and operator role beside the module and passes them by reference plans. The
# mocked provider here keeps computed values unknown at plan (no override_during = plan), as a real
# provider does, so any count or for_each that waited for an ARN or an ID would fail with "Invalid
# count argument". (0.3.0-dev failed at modules/alarms/topic.tf and modules/stream/main.tf.)

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

run "a_root_that_declares_everything_beside_the_module_plans" {
  command = plan
  module {
    source = "./tests/terraform/fixtures/bring_your_own"
  }

  assert {
    condition     = output.orders.function_name == "orders-audit" && output.orders.source_table_arn == null && output.orders.policy == null
    error_message = "The table's stream is consumed as given: the module creates no table, and a DynamoDB source needs no Kinesis resource policy."
  }
  assert {
    condition     = output.events.consumers == ["archive", "default"] && output.events.shared == ["default"]
    error_message = "Both consumers of the existing stream plan, the archive through an enhanced fan-out consumer registered on it."
  }
  assert {
    condition     = length(output.events.alarm_names) > 0 && length(output.events.composite_names) == 6 && length(output.events.paging) > 0
    error_message = "Every consumer's alarms are planned, and they page the topic passed by reference."
  }
  assert {
    condition     = !contains(keys(output.events.alarm_names), "kinesis-write-throughput-exceeded") && !contains(keys(output.events.alarm_names), "kinesis-read-throughput-exceeded")
    error_message = "The existing stream's own alarms are its owner's (kinesis.watch_existing_stream is off)."
  }
}
