data "aws_region" "current" {}

locals {
  region  = data.aws_region.current.id
  period  = var.period_seconds
  kinesis = var.source_type == "kinesis"
  source  = var.source_type

  # What there is to show. A widget whose dimension is unknown is left out, never drawn empty.
  has_function = var.function_name != null
  has_stream   = var.stream_name != null
  efo          = local.kinesis && local.has_stream && var.kinesis_consumer_name != null
  has_sink     = var.sink_table_name != null
  has_queue    = var.on_failure_queue_name != null
  has_esm      = var.event_source_mapping_uuid != null && var.event_source_mapping_metrics
  has_handler  = var.handler_metrics && var.service_name != null

  fn       = ["FunctionName", var.function_name]
  stream   = ["StreamName", var.stream_name]
  consumer = ["StreamName", var.stream_name, "ConsumerName", var.kinesis_consumer_name]
  esm      = ["EventSourceMappingUUID", var.event_source_mapping_uuid]
  dim      = ["SourceType", local.source, "service", var.service_name]

  # Per-shard write limits of Kinesis, per second. The widgets plot the incoming Sum per second
  # (m / PERIOD(m)), so the capacity line holds at any period the console picks for the time range.
  records_capacity = var.shard_count == null ? null : var.shard_count * 1000
  bytes_capacity   = var.shard_count == null ? null : var.shard_count * 1048576

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
          concat(["AWS/Lambda", "Duration"], local.fn, [{ stat = "p50", label = "p50" }]),
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

  # With enhanced fan-out, GetRecords.* describes the stream's shared-throughput readers, not our
  # consumer: its lag is SubscribeToShardEvent.MillisBehindLatest (per StreamName and ConsumerName).
  kinesis_lag_widgets = concat(
    [for _ in [1] : {
      type = "metric", width = 8, height = 6,
      properties = {
        title   = "Kinesis lag of the enhanced fan-out consumer (ms)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
        metrics = [concat(["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest"], local.consumer)]
      }
    } if local.efo],
    [for _ in [1] : {
      type = "metric", width = 8, height = 6,
      properties = {
        title   = "Kinesis iterator age (ms)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
        metrics = [concat(["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"], local.stream)]
      }
    } if !local.efo],
  )

  kinesis_widgets = [
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Kinesis incoming records per second against shard capacity", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "IncomingRecords"], local.stream, [{ id = "inrecords", stat = "Sum", visible = false }]),
          [{ expression = "inrecords / PERIOD(inrecords)", label = "incoming records/s", id = "inrecordsps" }],
        ]
        annotations = { horizontal = [for v in [local.records_capacity] : { label = "capacity: ${var.shard_count} x 1,000 records/s", value = v } if v != null] }
      }
    },
    {
      type = "metric", width = 8, height = 6,
      properties = {
        title = "Kinesis incoming bytes per second against shard capacity", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "IncomingBytes"], local.stream, [{ id = "inbytes", stat = "Sum", visible = false }]),
          [{ expression = "inbytes / PERIOD(inbytes)", label = "incoming bytes/s", id = "inbytesps" }],
        ]
        annotations = { horizontal = [for v in [local.bytes_capacity] : { label = "capacity: ${var.shard_count} x 1 MiB/s", value = v } if v != null] }
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Kinesis throttling: producers and this consumer", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "WriteProvisionedThroughputExceeded"], local.stream),
          local.efo ? concat(["AWS/Kinesis", "SubscribeToShard.RateExceeded"], local.consumer) : concat(["AWS/Kinesis", "ReadProvisionedThroughputExceeded"], local.stream),
        ]
      }
    },
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Kinesis producers: records rejected by PutRecords", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "PutRecords.FailedRecords"], local.stream),
          concat(["AWS/Kinesis", "PutRecords.ThrottledRecords"], local.stream),
          concat(["AWS/Kinesis", "PutRecords.TotalRecords"], local.stream, [{ yAxis = "right" }]),
        ]
      }
    },
  ]

  # Consumed capacity is a Sum over the period; provisioned capacity is per second. The widget plots
  # both per second (consumed / PERIOD), and the provisioned line only for a PROVISIONED table.
  capacity_widgets = [
    # Ids are per widget in the console; each table's are its own all the same (src*, sink*), so
    # that one GetMetricData over the whole dashboard (stream-pipeline dashboard) never repeats one.
    for table in [
      { title = "DynamoDB source", name = var.stream_name, mode = var.source_billing_mode, id = "src" },
      { title = "Sink", name = var.sink_table_name, mode = var.sink_billing_mode, id = "sink" },
      ] : {
      type = "metric", width = 12, height = 6,
      properties = {
        title  = "${table.title}: consumed${table.mode == "PROVISIONED" ? " against provisioned" : ""} capacity (units per second)"
        region = local.region, period = local.period, view = "timeSeries",
        metrics = concat(
          [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table.name, { id = "${table.id}cw", stat = "Sum", visible = false }],
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table.name, { id = "${table.id}cr", stat = "Sum", visible = false }],
            [{ expression = "${table.id}cw / PERIOD(${table.id}cw)", label = "consumed write units/s", id = "${table.id}wps" }],
            [{ expression = "${table.id}cr / PERIOD(${table.id}cr)", label = "consumed read units/s", id = "${table.id}rps" }],
          ],
          table.mode == "PROVISIONED" ? [
            ["AWS/DynamoDB", "ProvisionedWriteCapacityUnits", "TableName", table.name, { stat = "Average", label = "provisioned write units/s" }],
            ["AWS/DynamoDB", "ProvisionedReadCapacityUnits", "TableName", table.name, { stat = "Average", label = "provisioned read units/s" }],
          ] : [],
        )
      }
    }
  ]

  dynamodb_source_widgets = [
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "DynamoDB source: stream records returned, throttled requests", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = concat(
          var.stream_label == null ? [] : [["AWS/DynamoDB", "ReturnedRecordsCount", "Operation", "GetRecords", "StreamLabel", var.stream_label, "TableName", var.stream_name]],
          [
            ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.stream_name],
            ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", var.stream_name],
          ],
        )
      }
    },
    local.capacity_widgets[0],
  ]

  sink_widgets = [
    local.capacity_widgets[1],
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Sink: throttled writes", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = concat(
          [["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.sink_table_name]],
          local.has_handler ? [concat([var.metrics_namespace, "SinkThrottles"], local.dim)] : [],
        )
      }
    },
  ]

  handler_widgets = [
    {
      type = "metric", width = 12, height = 6,
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
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Processing latency, arrival to processed (ms)", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "p50", label = "p50" }]),
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "p99", label = "p99" }]),
          concat([var.metrics_namespace, "ProcessingLatency"], local.dim, [{ stat = "Maximum", label = "max" }]),
        ]
      }
    },
  ]

  esm_widgets = [
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title   = "Event source mapping: records polled, invoked, filtered, failed, dropped", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [for m in ["PolledEventCount", "InvokedEventCount", "FilteredOutEventCount", "FailedInvokeEventCount", "DroppedEventCount"] : concat(["AWS/Lambda", m], local.esm)]
      }
    },
  ]

  failure_metrics = concat(
    local.has_esm ? [concat(["AWS/Lambda", "OnFailureDestinationDeliveredEventCount"], local.esm)] : [],
    local.has_function ? [concat(["AWS/Lambda", "DestinationDeliveryFailures"], local.fn)] : [],
  )

  failure_widgets = concat(
    [for _ in [1] : {
      type = "metric", width = 12, height = 6,
      properties = {
        title   = "Failure path: records sent to the destination, delivery failures", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = local.failure_metrics
      }
    } if length(local.failure_metrics) > 0],
    [for _ in [1] : {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Failure path: on-failure queue (messages, age of the oldest in s)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.on_failure_queue_name],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.on_failure_queue_name, { yAxis = "right" }],
        ]
      }
    } if local.has_queue],
  )

  alarm_widgets = length(var.alarm_arns) == 0 ? [] : [
    {
      type       = "alarm", width = 24, height = 4,
      properties = { title = "Alarms", alarms = var.alarm_arns, sortBy = "stateUpdatedTimestamp" }
    },
  ]

  # Lists are filtered with `for ... if` because a conditional cannot choose between tuples of different shapes.
  widgets = concat(
    local.alarm_widgets,
    [for w in local.lambda_widgets : w if local.has_function],
    [for w in local.kinesis_widgets : w if local.kinesis && local.has_stream],
    [for w in local.kinesis_lag_widgets : w if local.kinesis && local.has_stream],
    [for w in local.dynamodb_source_widgets : w if !local.kinesis && local.has_stream],
    [for w in local.sink_widgets : w if local.has_sink],
    [for w in local.handler_widgets : w if local.has_handler],
    [for w in local.esm_widgets : w if local.has_esm],
    local.failure_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.enabled ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })

  lifecycle {
    precondition {
      condition     = length(local.widgets) > 0
      error_message = "The dashboard would be empty: give it at least one of function_name, stream_name, sink_table_name, on_failure_queue_name or alarm_arns."
    }
  }
}
