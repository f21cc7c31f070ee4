# modules/dashboard on its own: decode the JSON body and check widgets, metrics and capacity lines.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name                     = "pipeline"
  function_name            = "pipeline"
  function_timeout_seconds = 30
  stream_name              = "pipeline"
  shard_count              = 2
  sink_table_name          = "pipeline-sink"
  on_failure_queue_name    = "pipeline-failures"
  metrics_namespace        = "StreamPipeline"
  service_name             = "pipeline"
  alarm_arns               = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:b"]
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
      "AWS/Kinesis/WriteProvisionedThroughputExceeded", "AWS/Kinesis/ReadProvisionedThroughputExceeded",
      "AWS/Kinesis/PutRecord.Success", "AWS/Kinesis/PutRecords.Success", "AWS/Kinesis/GetRecords.Success",
      "AWS/DynamoDB/ConsumedWriteCapacityUnits", "AWS/DynamoDB/ProvisionedWriteCapacityUnits", "AWS/DynamoDB/WriteThrottleEvents",
      "StreamPipeline/SinkThrottles", "StreamPipeline/RecordsProcessed", "StreamPipeline/RecordsFailed", "StreamPipeline/ProcessingLatency",
      "AWS/SQS/ApproximateNumberOfMessagesVisible", "AWS/SQS/ApproximateAgeOfOldestMessage",
    ])
    error_message = "A Kinesis dashboard shows exactly the Lambda, Kinesis, sink, business and failure-path metrics."
  }
  assert {
    condition = [
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value
      if strcontains(try(w.properties.title, ""), "against shard capacity")
    ] == [120000, 125829120]
    error_message = "Capacity lines: 2 shards x 1,000 records/s x 60 s = 120,000 records; 2 x 1 MiB/s x 60 s = 125,829,120 bytes."
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
    condition = one(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
        for m in try(w.properties.metrics, []) : m[0].expression if can(m[0].expression)
      ]
    ])) == "100 * processed / (processed + failed)"
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
    source_type     = "dynamodb"
    stream_label    = "2026-11-23T00:00:00.000"
    shard_count     = null
    sink_table_name = null
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
    ])) == toset(["RecordsProcessed", "RecordsFailed", "InsertEvents", "ModifyEvents", "RemoveEvents", "ProcessingLatency"])
    error_message = "A DynamoDB source shows INSERT/MODIFY/REMOVE counts."
  }
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
