data "aws_region" "current" {}

locals {
  region  = data.aws_region.current.id
  period  = var.period_seconds
  kinesis = var.source_type == "kinesis"
  source  = var.source_type

  # What there is to show. A widget whose dimension is unknown is left out, never drawn empty.
  has_stream = var.stream_name != null
  stream     = ["StreamName", var.stream_name]
  shared     = [for c in values(var.consumers) : c if c.kinesis_consumer_name == null]

  # Per-shard limits of Kinesis, per second. The widgets plot the incoming and read Sums per second
  # (m / PERIOD(m)), so each capacity line holds at any period the console picks for the time range.
  records_capacity = var.shard_count == null ? null : var.shard_count * 1000
  bytes_capacity   = var.shard_count == null ? null : var.shard_count * 1048576
  reads_capacity   = var.shard_count == null ? null : var.shard_count * 5
  read_bytes_cap   = var.shard_count == null ? null : var.shard_count * 2 * 1048576

  # ----------------------------------------------------------------- once per stream
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
      type = "metric", width = 8, height = 6,
      properties = {
        title = length(local.shared) > 0 ? "Kinesis throttling: producers and shared-throughput readers" : "Kinesis throttling: producers", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = concat(
          [concat(["AWS/Kinesis", "WriteProvisionedThroughputExceeded"], local.stream)],
          [for m in [concat(["AWS/Kinesis", "ReadProvisionedThroughputExceeded"], local.stream)] : m if length(local.shared) > 0],
        )
      }
    },
    {
      # The producers: what PutRecords refused, and what a KPL producer (or `stream-pipeline load`)
      # says it put: user records against the Kinesis records that carried them (aggregation).
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Producers: records rejected by PutRecords; user records against Kinesis records (KPL)", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "PutRecords.FailedRecords"], local.stream),
          concat(["AWS/Kinesis", "PutRecords.ThrottledRecords"], local.stream),
          concat(["AWS/Kinesis", "PutRecords.TotalRecords"], local.stream, [{ yAxis = "right" }]),
          concat(["KinesisProducerLibrary", "UserRecordsPut"], local.stream, [{ yAxis = "right" }]),
          concat(["KinesisProducerLibrary", "KinesisRecordsPut"], local.stream, [{ yAxis = "right" }]),
        ]
      }
    },
  ]

  # Seed 002: shared-throughput consumers take turns at each shard's 5 GetRecords a second and 2 MiB
  # a second; what they take together is drawn against that budget.
  read_budget_widgets = [
    {
      type = "metric", width = 12, height = 6,
      properties = {
        title = "Shared read budget (${length(local.shared)} consumer(s)): GetRecords calls and bytes per second against the shards'", region = local.region, period = local.period, view = "timeSeries",
        metrics = [
          concat(["AWS/Kinesis", "GetRecords.Success"], local.stream, [{ id = "reads", stat = "SampleCount", visible = false }]),
          [{ expression = "reads / PERIOD(reads)", label = "GetRecords calls/s", id = "readsps" }],
          concat(["AWS/Kinesis", "GetRecords.Bytes"], local.stream, [{ id = "readbytes", stat = "Sum", visible = false }]),
          [{ expression = "readbytes / PERIOD(readbytes)", label = "bytes read/s (right)", id = "readbytesps", yAxis = "right" }],
          concat(["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"], local.stream, [{ stat = "Maximum", label = "iterator age of the shared readers (ms, right)", yAxis = "right" }]),
        ]
        annotations = { horizontal = concat(
          [for v in [local.reads_capacity] : { label = "read budget: ${var.shard_count} x 5 calls/s", value = v } if v != null],
          [for v in [local.read_bytes_cap] : { label = "read budget: ${var.shard_count} x 2 MiB/s", value = v, yAxis = "right" } if v != null],
        ) }
      }
    },
  ]

  # Consumed capacity is a Sum over the period; provisioned capacity is per second. The widget plots
  # both per second (consumed / PERIOD), and the provisioned line only for a PROVISIONED table. The
  # ids carry the table's role (src*, sink<n>*), so that one GetMetricData over the whole dashboard
  # (stream-pipeline dashboard) never repeats one.
  capacity_widget = {
    for table in concat(
      [{ key = "src", title = "DynamoDB source", name = var.stream_name, mode = var.source_billing_mode }],
      [for i, key in keys(var.consumers) : { key = "sink${i}", title = "Sink of ${var.consumers[key].function_name}", name = var.consumers[key].sink_table_name, mode = var.consumers[key].sink_billing_mode }],
      ) : table.key => {
      type = "metric", width = 12, height = 6,
      properties = {
        title  = "${table.title}: consumed${table.mode == "PROVISIONED" ? " against provisioned" : ""} capacity (units per second)"
        region = local.region, period = local.period, view = "timeSeries",
        metrics = concat(
          [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table.name, { id = "${table.key}cw", stat = "Sum", visible = false }],
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table.name, { id = "${table.key}cr", stat = "Sum", visible = false }],
            [{ expression = "${table.key}cw / PERIOD(${table.key}cw)", label = "consumed write units/s", id = "${table.key}wps" }],
            [{ expression = "${table.key}cr / PERIOD(${table.key}cr)", label = "consumed read units/s", id = "${table.key}rps" }],
          ],
          table.mode == "PROVISIONED" ? [
            ["AWS/DynamoDB", "ProvisionedWriteCapacityUnits", "TableName", table.name, { stat = "Average", label = "provisioned write units/s" }],
            ["AWS/DynamoDB", "ProvisionedReadCapacityUnits", "TableName", table.name, { stat = "Average", label = "provisioned read units/s" }],
          ] : [],
        )
      }
    }
  }

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
    local.capacity_widget["src"],
  ]

  stream_widgets = concat(
    [for w in local.kinesis_widgets : w if local.kinesis && local.has_stream],
    [for w in local.read_budget_widgets : w if local.kinesis && local.has_stream && length(local.shared) > 0],
    [for w in local.dynamodb_source_widgets : w if !local.kinesis && local.has_stream],
  )

  # ----------------------------------------------------------------- a row per consumer
  consumer_widgets = [
    for i, key in keys(var.consumers) : concat(
      # The row's title: which consumer, and how it reads.
      [{
        type       = "text", width = 24, height = 1,
        properties = { markdown = "### Consumer `${key}`: function `${var.consumers[key].function_name}`${var.consumers[key].kinesis_consumer_name == null ? ", shared throughput" : ", enhanced fan-out consumer `${var.consumers[key].kinesis_consumer_name}`"}" }
      }],
      [
        {
          type = "metric", width = 8, height = 6,
          properties = {
            title   = "${var.consumers[key].function_name}: invocations, errors, throttles", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
            metrics = [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", var.consumers[key].function_name]]
          }
        },
        {
          type = "metric", width = 8, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: duration (ms) against the timeout", region = local.region, period = local.period, view = "timeSeries",
            metrics = [
              for stat in ["p50", "p99", "Maximum"] : ["AWS/Lambda", "Duration", "FunctionName", var.consumers[key].function_name, { stat = stat, label = stat == "Maximum" ? "max" : stat }]
            ]
            annotations = { horizontal = [{ label = "timeout", value = var.consumers[key].function_timeout_seconds * 1000 }] }
          }
        },
        {
          type = "metric", width = 8, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: concurrency and lag (ms)", region = local.region, period = local.period, view = "timeSeries",
            metrics = concat(
              [
                ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", var.consumers[key].function_name, { stat = "Maximum" }],
                ["AWS/Lambda", "IteratorAge", "FunctionName", var.consumers[key].function_name, { stat = "Maximum", yAxis = "right" }],
              ],
              # With enhanced fan-out, the consumer's own lag is SubscribeToShardEvent.MillisBehindLatest
              # (per StreamName and ConsumerName), and its throttling SubscribeToShard.RateExceeded.
              [for m in [
                ["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest", "StreamName", var.stream_name, "ConsumerName", var.consumers[key].kinesis_consumer_name, { stat = "Maximum", yAxis = "right", label = "enhanced fan-out: behind latest (ms)" }],
                ["AWS/Kinesis", "SubscribeToShard.RateExceeded", "StreamName", var.stream_name, "ConsumerName", var.consumers[key].kinesis_consumer_name, { stat = "Sum", label = "subscriptions refused" }],
              ] : m if var.consumers[key].kinesis_consumer_name != null],
            )
          }
        },
      ],
      [for w in [
        local.capacity_widget["sink${i}"],
        {
          type = "metric", width = 12, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: sink throttled writes", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
            metrics = concat(
              [["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.consumers[key].sink_table_name]],
              var.consumers[key].handler_metrics && var.consumers[key].service_name != null ? [[var.consumers[key].metrics_namespace, "SinkThrottles", "SourceType", local.source, "service", var.consumers[key].service_name]] : [],
            )
          }
        },
      ] : w if var.consumers[key].sink_table_name != null],
      [for w in [
        {
          # Kinesis records (what the shards carry) against user records (what the business counts):
          # with KPL aggregation, several user records travel in one Kinesis record.
          type = "metric", width = 12, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: records processed and failed (handler EMF)", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
            metrics = concat(
              [
                [var.consumers[key].metrics_namespace, "RecordsProcessed", "SourceType", local.source, "service", var.consumers[key].service_name, { id = "c${i}processed" }],
                [var.consumers[key].metrics_namespace, "RecordsFailed", "SourceType", local.source, "service", var.consumers[key].service_name, { id = "c${i}failed" }],
                [{ expression = "100 * c${i}processed / (c${i}processed + c${i}failed)", label = "success rate (%)", id = "c${i}success", yAxis = "right" }],
              ],
              [for m in [
                [var.consumers[key].metrics_namespace, "UserRecords", "SourceType", local.source, "service", var.consumers[key].service_name, { id = "c${i}user", label = "user records (deaggregated)" }],
                [{ expression = "c${i}user / c${i}processed", label = "user records per Kinesis record", id = "c${i}peraggregate", yAxis = "right" }],
              ] : m if local.kinesis],
              [for m in ["InsertEvents", "ModifyEvents", "RemoveEvents", "TtlDeleteEvents"] : [var.consumers[key].metrics_namespace, m, "SourceType", local.source, "service", var.consumers[key].service_name] if !local.kinesis],
            )
          }
        },
        {
          type = "metric", width = 12, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: processing latency, arrival to processed (ms)", region = local.region, period = local.period, view = "timeSeries",
            metrics = [
              for stat in ["p50", "p99", "Maximum"] : [var.consumers[key].metrics_namespace, "ProcessingLatency", "SourceType", local.source, "service", var.consumers[key].service_name, { stat = stat, label = stat == "Maximum" ? "max" : stat }]
            ]
          }
        },
      ] : w if var.consumers[key].handler_metrics && var.consumers[key].service_name != null],
      [for w in [
        {
          type = "metric", width = 12, height = 6,
          properties = {
            title   = "${var.consumers[key].function_name}: mapping records polled, invoked, filtered, failed, dropped", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
            metrics = [for m in ["PolledEventCount", "InvokedEventCount", "FilteredOutEventCount", "FailedInvokeEventCount", "DroppedEventCount"] : ["AWS/Lambda", m, "EventSourceMappingUUID", var.consumers[key].event_source_mapping_uuid]]
          }
        },
      ] : w if var.consumers[key].event_source_mapping_uuid != null && var.consumers[key].event_source_mapping_metrics],
      [
        {
          type = "metric", width = 12, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: failure path: records sent to the destination, delivery failures", region = local.region, period = local.period, stat = "Sum", view = "timeSeries",
            metrics = concat(
              var.consumers[key].event_source_mapping_uuid != null && var.consumers[key].event_source_mapping_metrics ? [["AWS/Lambda", "OnFailureDestinationDeliveredEventCount", "EventSourceMappingUUID", var.consumers[key].event_source_mapping_uuid]] : [],
              [["AWS/Lambda", "DestinationDeliveryFailures", "FunctionName", var.consumers[key].function_name]],
            )
          }
        },
      ],
      [for w in [
        {
          type = "metric", width = 12, height = 6,
          properties = {
            title = "${var.consumers[key].function_name}: on-failure queue (messages; age of the oldest in s)", region = local.region, period = local.period, stat = "Maximum", view = "timeSeries",
            metrics = [
              ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.consumers[key].on_failure_queue_name],
              ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", var.consumers[key].on_failure_queue_name, { label = "in flight (a redrive at work)" }],
              ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.consumers[key].on_failure_queue_name, { yAxis = "right" }],
            ]
          }
        },
      ] : w if var.consumers[key].on_failure_queue_name != null],
    )
  ]

  alarm_widgets = length(var.alarm_arns) == 0 ? [] : [
    {
      type       = "alarm", width = 24, height = 4,
      properties = { title = "Alarms", alarms = var.alarm_arns, sortBy = "stateUpdatedTimestamp" }
    },
  ]

  widgets = concat(local.alarm_widgets, local.stream_widgets, flatten(local.consumer_widgets))
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.enabled ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })

  lifecycle {
    precondition {
      condition     = length(local.widgets) > 0
      error_message = "The dashboard would be empty: give it at least one of consumers, stream_name or alarm_arns."
    }
  }
}
