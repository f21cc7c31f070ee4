data "aws_region" "current" {}

locals {
  region  = data.aws_region.current.id
  period  = var.period_seconds
  kinesis = var.source_type == "kinesis"
  source  = var.source_type
  service = coalesce(var.service_name, var.function_name, "stream-pipeline")
  fn      = ["FunctionName", var.function_name]
  stream  = ["StreamName", var.stream_name]

  # Per-shard write limits of Kinesis, converted to a Sum over one widget period.
  records_capacity = var.shard_count == null ? null : var.shard_count * 1000 * local.period
  bytes_capacity   = var.shard_count == null ? null : var.shard_count * 1048576 * local.period

  dim = ["SourceType", local.source, "service", local.service]

  lambda_widgets = [
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Lambda invocations, errors, throttles", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          concat(["AWS/Lambda", "Invocations"], local.fn),
          concat(["AWS/Lambda", "Errors"], local.fn),
          concat(["AWS/Lambda", "Throttles"], local.fn),
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Lambda duration (ms) against the timeout", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat(["AWS/Lambda", "Duration"], local.fn, [{ stat = "Average", label = "avg" }]),
          concat(["AWS/Lambda", "Duration"], local.fn, [{ stat = "p99", label = "p99" }]),
          concat(["AWS/Lambda", "Duration"], local.fn, [{ stat = "Maximum", label = "max" }]),
        ]
        annotations = { horizontal = [{ label = "timeout", value = var.function_timeout_seconds * 1000 }] }
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Lambda concurrency and iterator age (ms)", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat(["AWS/Lambda", "ConcurrentExecutions"], local.fn, [{ stat = "Maximum" }]),
          concat(["AWS/Lambda", "IteratorAge"], local.fn, [{ stat = "Maximum", yAxis = "right" }]),
        ]
      }
    },
  ]

  kinesis_widgets = [
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title       = "Kinesis incoming records (per period) against shard capacity", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics     = [concat(["AWS/Kinesis", "IncomingRecords"], local.stream)]
        annotations = { horizontal = [for v in [local.records_capacity] : { label = "capacity: ${var.shard_count} x 1,000 records/s", value = v } if v != null] }
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title       = "Kinesis incoming bytes (per period) against shard capacity", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics     = [concat(["AWS/Kinesis", "IncomingBytes"], local.stream)]
        annotations = { horizontal = [for v in [local.bytes_capacity] : { label = "capacity: ${var.shard_count} x 1 MiB/s", value = v } if v != null] }
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title   = "Kinesis iterator age (ms)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
        metrics = [concat(["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"], local.stream)]
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Kinesis throttling (provisioned throughput exceeded)", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "WriteProvisionedThroughputExceeded"], local.stream),
          concat(["AWS/Kinesis", "ReadProvisionedThroughputExceeded"], local.stream),
        ]
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Kinesis producer and consumer success (average)", region = local.region, period = local.period, stat = "Average", view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "PutRecord.Success"], local.stream),
          concat(["AWS/Kinesis", "PutRecords.Success"], local.stream),
          concat(["AWS/Kinesis", "GetRecords.Success"], local.stream),
        ]
      }
    },
  ]

  dynamodb_source_widgets = [
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "DynamoDB source: stream records returned, throttled requests", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          ["AWS/DynamoDB", "ReturnedRecordsCount", "Operation", "GetRecords", "StreamLabel", coalesce(var.stream_label, "unknown"), "TableName", var.stream_name],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.stream_name],
          ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", var.stream_name],
        ]
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "DynamoDB source: consumed against provisioned capacity", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", var.stream_name],
          ["AWS/DynamoDB", "ProvisionedWriteCapacityUnits", "TableName", var.stream_name, { stat = "Average" }],
          ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", var.stream_name],
          ["AWS/DynamoDB", "ProvisionedReadCapacityUnits", "TableName", var.stream_name, { stat = "Average" }],
        ]
      }
    },
  ]

  # Lists are filtered with `for ... if` because a conditional cannot choose between tuples of different shapes.
  sink_widgets = [for w in [
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Sink: consumed against provisioned write capacity", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", var.sink_table_name],
          ["AWS/DynamoDB", "ProvisionedWriteCapacityUnits", "TableName", var.sink_table_name, { stat = "Average" }],
        ]
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Sink: throttled writes", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.sink_table_name],
          [var.metrics_namespace, "SinkThrottles", "SourceType", local.source, "service", local.service],
        ]
      }
    },
  ] : w if var.sink_table_name != null]

  business_widgets = [
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Records processed and failed (handler EMF)", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = concat(
          [
            concat([var.metrics_namespace, "RecordsProcessed"], local.dim, [{ id = "processed" }]),
            concat([var.metrics_namespace, "RecordsFailed"], local.dim, [{ id = "failed" }]),
            [{ expression = "100 * processed / (processed + failed)", label = "success rate (%)", id = "success", yAxis = "right" }],
          ],
          [for m in ["InsertEvents", "ModifyEvents", "RemoveEvents"] : concat([var.metrics_namespace, m], local.dim) if !local.kinesis],
        )
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Processing latency, arrival to processed (ms)", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "p50", label = "p50" }]),
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "p99", label = "p99" }]),
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "Maximum", label = "max" }]),
        ]
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Failure path: on-failure queue", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.on_failure_queue_name],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.on_failure_queue_name, { yAxis = "right" }],
        ]
      }
    },
  ]

  alarm_widgets = length(var.alarm_arns) == 0 ? [] : [
    {
      type       = "alarm", width = 24, height = 4,
      properties = { title = "Alarms", alarms = var.alarm_arns, sortBy = "stateUpdatedTimestamp" }
    },
  ]

  widgets = concat(
    local.alarm_widgets,
    local.lambda_widgets,
    [for w in local.kinesis_widgets : w if local.kinesis],
    [for w in local.dynamodb_source_widgets : w if !local.kinesis],
    local.sink_widgets,
    local.business_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.enabled ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
