# modules/dashboard on its own: decode the JSON body and check widgets, metrics and capacity lines.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name        = "pipeline"
  stream_name = "pipeline"
  shard_count = 2
  consumers = {
    default = {
      function_name             = "pipeline"
      function_timeout_seconds  = 30
      sink_table_name           = "pipeline-sink"
      sink_billing_mode         = "PAY_PER_REQUEST"
      on_failure_queue_name     = "pipeline-failures"
      metrics_namespace         = "StreamPipeline"
      service_name              = "pipeline"
      event_source_mapping_uuid = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
    }
  }
  alarm_arns = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:b"]
}

run "kinesis_dashboard" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  assert {
    condition = toset(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : "${m[0]}/${m[1]}" if length(m) > 1
      ]
      ])) == toset([
      "AWS/Lambda/Invocations", "AWS/Lambda/Errors", "AWS/Lambda/Throttles", "AWS/Lambda/Duration", "AWS/Lambda/ConcurrentExecutions", "AWS/Lambda/IteratorAge",
      "AWS/Kinesis/IncomingRecords", "AWS/Kinesis/IncomingBytes", "AWS/Kinesis/GetRecords.IteratorAgeMilliseconds",
      "AWS/Kinesis/GetRecords.Success", "AWS/Kinesis/GetRecords.Bytes",
      "KinesisProducerLibrary/UserRecordsPut", "KinesisProducerLibrary/KinesisRecordsPut", "StreamPipeline/UserRecords",
      "AWS/Kinesis/WriteProvisionedThroughputExceeded", "AWS/Kinesis/ReadProvisionedThroughputExceeded",
      "AWS/Kinesis/PutRecords.FailedRecords", "AWS/Kinesis/PutRecords.ThrottledRecords", "AWS/Kinesis/PutRecords.TotalRecords",
      "AWS/DynamoDB/ConsumedWriteCapacityUnits", "AWS/DynamoDB/ConsumedReadCapacityUnits", "AWS/DynamoDB/WriteThrottleEvents",
      "StreamPipeline/SinkThrottles", "StreamPipeline/RecordsProcessed", "StreamPipeline/RecordsFailed", "StreamPipeline/ProcessingLatency",
      "AWS/Lambda/PolledEventCount", "AWS/Lambda/InvokedEventCount", "AWS/Lambda/FilteredOutEventCount", "AWS/Lambda/FailedInvokeEventCount",
      "AWS/Lambda/DroppedEventCount", "AWS/Lambda/OnFailureDestinationDeliveredEventCount", "AWS/Lambda/DestinationDeliveryFailures",
      "AWS/SQS/ApproximateNumberOfMessagesVisible", "AWS/SQS/ApproximateNumberOfMessagesNotVisible", "AWS/SQS/ApproximateAgeOfOldestMessage",
    ])
    error_message = "A Kinesis dashboard shows exactly the Lambda, Kinesis, sink, business and failure-path metrics."
  }
  assert {
    condition = [
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value
      if strcontains(try(w.properties.title, ""), "against shard capacity")
    ] == [2000, 2097152]
    error_message = "Capacity lines per second: 2 shards x 1,000 records/s = 2,000; 2 x 1 MiB/s = 2,097,152 bytes/s."
  }
  assert {
    condition = [
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in w.properties.metrics : try(m[0].expression, "") if can(m[0].expression)]
      if strcontains(try(w.properties.title, ""), "against shard capacity")
    ] == [["inrecords / PERIOD(inrecords)"], ["inbytes / PERIOD(inbytes)"]]
    error_message = "The incoming records and bytes are plotted per second (Sum / PERIOD), so the capacity line holds at whatever period the console picks for a long time range."
  }
  assert {
    condition = one([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value
      if strcontains(try(w.properties.title, ""), "duration")
    ]) == 30000
    error_message = "The duration widget draws the 30 s timeout."
  }
  assert {
    condition     = jsonencode(one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.alarms if w.type == "alarm"])) == jsonencode(var.alarm_arns)
    error_message = "The alarm-status widget lists every alarm."
  }
  assert {
    condition = contains(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[0].expression if can(m[0].expression)
      ]
    ]), "100 * c0processed / (c0processed + c0failed)")
    error_message = "The success rate is metric math over the EMF counts."
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : slice(m, 2, 6) == ["SourceType", "kinesis", "service", "pipeline"] if m[0] == "StreamPipeline"
      ]
    ]))
    error_message = "EMF metrics are addressed with the handler's dimensions: SourceType and service."
  }
}

run "dynamodb_dashboard_has_no_kinesis_widgets" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    source_type  = "dynamodb"
    stream_label = "2026-11-23T00:00:00.000"
    shard_count  = null
    consumers = {
      default = { function_name = "pipeline", metrics_namespace = "StreamPipeline", service_name = "pipeline", on_failure_queue_name = "pipeline-failures" }
    }
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w
      if anytrue([for m in try(w.properties.metrics, []) : m[0] == "AWS/Kinesis"])
    ]) == 0
    error_message = "No Kinesis widget for a DynamoDB source."
  }
  assert {
    condition = contains(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in try(w.properties.metrics, []) : join("/", [for p in m : tostring(p) if can(tostring(p))])]
    ]), "AWS/DynamoDB/ReturnedRecordsCount/Operation/GetRecords/StreamLabel/2026-11-23T00:00:00.000/TableName/pipeline")
    error_message = "The stream's ReturnedRecordsCount is addressed by Operation, StreamLabel and TableName."
  }
  assert {
    condition = toset(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in try(w.properties.metrics, []) : m[1] if m[0] == "StreamPipeline"]
    ])) == toset(["RecordsProcessed", "RecordsFailed", "InsertEvents", "ModifyEvents", "RemoveEvents", "TtlDeleteEvents", "ProcessingLatency"])
    error_message = "A DynamoDB source shows INSERT/MODIFY/REMOVE counts, and the TTL expiries apart from the deletions."
  }
}

run "capacity_is_per_second_and_provisioned_lines_only_for_provisioned_tables" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    consumers = {
      default = { function_name = "pipeline", sink_table_name = "pipeline-sink", sink_billing_mode = "PROVISIONED" }
    }
  }

  assert {
    condition = [
      for m in one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w if strcontains(try(w.properties.title, ""), "Sink of pipeline: consumed")]).properties.metrics :
      try(m[0].expression, m[1])
    ] == ["ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits", "sink0cw / PERIOD(sink0cw)", "sink0cr / PERIOD(sink0cr)", "ProvisionedWriteCapacityUnits", "ProvisionedReadCapacityUnits"]
    error_message = "Consumed units are a Sum per period: plot them per second (m / PERIOD(m)) next to the provisioned units per second."
  }
}

run "metric_ids_are_unique_across_the_dashboard" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    source_type         = "dynamodb"
    stream_label        = "2026-11-23T00:00:00.000"
    source_billing_mode = "PROVISIONED"
    consumers = {
      default = { function_name = "pipeline", sink_table_name = "pipeline-sink", sink_billing_mode = "PROVISIONED", service_name = "pipeline" }
      archive = { function_name = "pipeline-archive", sink_table_name = "pipeline-archive-sink", sink_billing_mode = "PROVISIONED", service_name = "pipeline-archive" }
    }
  }

  assert {
    condition = length(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[length(m) - 1].id if can(m[length(m) - 1].id)
      ]
      ])) == length(distinct(flatten([
        for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
          for m in try(w.properties.metrics, []) : m[length(m) - 1].id if can(m[length(m) - 1].id)
        ]
    ])))
    error_message = "A DynamoDB source with two consumers' sinks has three capacity widgets and two EMF rows: their ids must differ (src*, sink<i>*, c<i>*), so one GetMetricData over the dashboard never repeats an Id."
  }
}

run "on_demand_tables_have_no_provisioned_line" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w
      if anytrue([for m in try(w.properties.metrics, []) : contains(["ProvisionedWriteCapacityUnits", "ProvisionedReadCapacityUnits"], try(m[1], ""))])
    ]) == 0
    error_message = "An on-demand table has no provisioned capacity to draw."
  }
}

run "enhanced_fan_out_graphs_the_consumer_not_getrecords" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    consumers = {
      default = { function_name = "pipeline", kinesis_consumer_name = "pipeline-consumer" }
    }
  }

  assert {
    condition = toset(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : join("/", [for p in m : tostring(p) if can(tostring(p))]) if try(m[0], "") == "AWS/Kinesis" && strcontains(try(m[1], ""), "Subscribe")
      ]
      ])) == toset([
      "AWS/Kinesis/SubscribeToShardEvent.MillisBehindLatest/StreamName/pipeline/ConsumerName/pipeline-consumer",
      "AWS/Kinesis/SubscribeToShard.RateExceeded/StreamName/pipeline/ConsumerName/pipeline-consumer",
    ])
    error_message = "With enhanced fan-out, the lag and throttling widgets use the SubscribeToShard metrics per StreamName and ConsumerName."
  }
  assert {
    condition = length(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in try(w.properties.metrics, []) : m if contains(["GetRecords.IteratorAgeMilliseconds", "ReadProvisionedThroughputExceeded"], try(m[1], ""))]
    ])) == 0
    error_message = "GetRecords metrics do not describe an enhanced fan-out consumer."
  }
}

run "only_a_function_shows_only_its_widgets_and_no_null_dimension" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    stream_name = null
    shard_count = null
    consumers   = { default = { function_name = "pipeline" } }
    alarm_arns  = []
  }

  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in try(w.properties.metrics, []) : alltrue([for p in m : p != null])]
    ])) && length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 5
    error_message = "A function alone gets its row header, its three Lambda widgets and the delivery-failure widget, every dimension set."
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w if w.type == "metric"]) == 4
    error_message = "Only the function's metric widgets (the row header is text)."
  }
}

run "an_empty_dashboard_is_refused" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    stream_name = null
    shard_count = null
    consumers   = {}
    alarm_arns  = []
  }

  expect_failures = [aws_cloudwatch_dashboard.this]
}

run "disabled_dashboard" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    enabled = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_url == null
    error_message = "A disabled dashboard plans nothing."
  }
}

run "stream_widgets_once_and_a_row_per_consumer" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    consumers = {
      default = { function_name = "pipeline", service_name = "pipeline", event_source_mapping_uuid = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11", on_failure_queue_name = "pipeline-failures" }
      archive = { function_name = "pipeline-archive", service_name = "pipeline-archive", kinesis_consumer_name = "pipeline-archive", event_source_mapping_uuid = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d", on_failure_queue_name = "pipeline-archive-failures" }
    }
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w
      if anytrue([for m in try(w.properties.metrics, []) : contains(["IncomingRecords", "IncomingBytes", "WriteProvisionedThroughputExceeded", "PutRecords.FailedRecords"], try(m[1], ""))])
    ]) == 4
    error_message = "The stream's widgets (incoming records, bytes, throttling, producers) are drawn once, whatever the number of consumers."
  }
  assert {
    condition = [
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.markdown if w.type == "text"
      ] == [
      "### Consumer `archive`: function `pipeline-archive`, enhanced fan-out consumer `pipeline-archive`",
      "### Consumer `default`: function `pipeline`, shared throughput",
    ]
    error_message = "Each consumer has a row of its own, titled with its key, function and how it reads."
  }
  assert {
    condition = toset(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[3] if try(m[0], "") == "AWS/Lambda" && try(m[2], "") == "FunctionName" && try(m[1], "") == "Invocations"
      ]
    ])) == toset(["pipeline", "pipeline-archive"])
    error_message = "Each consumer's function has its own invocation graph."
  }
  assert {
    condition = toset(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[3] if try(m[1], "") == "PolledEventCount"
      ]
    ])) == toset(["6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11", "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"])
    error_message = "Each consumer's mapping is graphed by its own UUID."
  }
  assert {
    condition = flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[5] if try(m[1], "") == "SubscribeToShardEvent.MillisBehindLatest"
      ]
    ]) == ["pipeline-archive"]
    error_message = "Only the enhanced fan-out consumer's lag is SubscribeToShardEvent.MillisBehindLatest, by its ConsumerName."
  }
  assert {
    condition = one([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for a in w.properties.annotations.horizontal : a.value]
      if strcontains(try(w.properties.title, ""), "Shared read budget (1 consumer(s))")
    ]) == [10, 4194304]
    error_message = "The shared read budget is drawn against 2 shards x 5 GetRecords/s = 10 and 2 x 2 MiB/s = 4,194,304 bytes/s."
  }
  assert {
    condition = length(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[length(m) - 1].id if can(m[length(m) - 1].id)
      ]
      ])) == length(distinct(flatten([
        for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
          for m in try(w.properties.metrics, []) : m[length(m) - 1].id if can(m[length(m) - 1].id)
        ]
    ])))
    error_message = "Two consumers' EMF rows use ids of their own (c0*, c1*): one GetMetricData over the dashboard never repeats an Id."
  }
}

run "no_read_budget_when_every_consumer_has_its_own_throughput" {
  command = plan
  module {
    source = "./modules/dashboard"
  }

  variables {
    consumers = {
      default = { function_name = "pipeline", kinesis_consumer_name = "pipeline-consumer" }
    }
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w if strcontains(try(w.properties.title, ""), "Shared read budget")
    ]) == 0
    error_message = "With every consumer on enhanced fan-out, nobody shares the read budget: no budget widget."
  }
}
