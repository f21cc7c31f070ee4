data "aws_region" "current" {}

locals {
  enabled      = var.enabled
  create_topic = local.enabled && var.sns_topic_arn == null
  kinesis      = var.source_type == "kinesis"
  t            = var.thresholds

  # What there is to watch. An alarm whose dimension is unknown is never created: an `Errors` alarm
  # without FunctionName would watch every function of the account.
  has_function = var.function_name != null
  has_stream   = local.kinesis && var.stream_name != null
  efo          = local.has_stream && var.kinesis_consumer_name != null
  has_sink     = var.sink_table_name != null
  has_queue    = var.on_failure_queue_name != null
  # A plan-time switch, not `uuid != null`: the mapping's UUID is only known after apply, and the
  # set of alarms must be known at plan.
  has_esm     = var.event_source_mapping_metrics
  has_handler = var.handler_metrics && var.service_name != null

  fn      = { FunctionName = var.function_name }
  esm     = { EventSourceMappingUUID = var.event_source_mapping_uuid }
  handler = { SourceType = var.source_type, service = var.service_name }
  stream  = { StreamName = var.stream_name }

  timeout_ms  = var.function_timeout_seconds * 1000
  retention_s = var.stream_retention_hours * 3600
  # The age at which Lambda gives a record up to the failure path. The consumer module passes its
  # effective value; alone, this module assumes the consumer module's default (half the retention).
  record_age_s = coalesce(var.maximum_record_age_seconds, min(604800, floor(local.retention_s / 2)))
  # A record handed to the failure path at that age is still in the stream for this long, at least:
  # the window in which a replay from the stream is possible.
  replay_window_s = local.retention_s - local.record_age_s

  # treat_missing_data, chosen per alarm:
  # - notBreaching for counts that AWS publishes only when non-zero (Errors, Throttles, the event
  #   source mapping's counts): silence is the healthy case, and the alarm returns to OK with it.
  # - ignore for ages (IteratorAge, the failure queue): a consumer that has stalled publishes no
  #   IteratorAge at all, and SQS stops publishing for a queue idle for six hours, so silence must
  #   keep the alarm where it is instead of closing it.
  # - breaching only for the silent-stream alarm, whose whole point is silence.
  definitions = {
    lambda-errors = {
      include            = local.has_function, severity = "warning"
      namespace          = "AWS/Lambda", metric = "Errors", dimensions = local.fn, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.errors, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The consumer function failed (raised, timed out or ran out of memory): its whole batch is retried, then bisected, then sent to the failure path. What to do: read the function's log group for the error; a timeout wants smaller batches or more memory."
    }
    records-failed = {
      include            = local.has_function && local.has_handler, severity = "warning"
      namespace          = var.metrics_namespace, metric = "RecordsFailed", dimensions = local.handler, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.records_failed, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The handler reported records as failed (batchItemFailures). Lambda's Errors stays at 0 for these: the records are being retried and will reach the failure path if they keep failing. What to do: find the \"record failed\" lines in the log group; each names the record and the reason (malformed, invalid, or a sink that did not take it in time)."
    }
    lambda-throttles = {
      include            = local.has_function, severity = "warning"
      namespace          = "AWS/Lambda", metric = "Throttles", dimensions = local.fn, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The consumer is throttled and falls behind. What to do: raise reserved concurrency to at least shards x parallelization factor, or ask for a higher account concurrency limit."
    }
    lambda-duration = {
      # Maximum, not Average (which hides the slow tail): the batch that nears the timeout is the one
      # Lambda retries whole. p99 would serve too, but LocalStack cannot evaluate percentile alarms,
      # and Maximum is what the drills can prove.
      include            = local.has_function, severity = "warning"
      namespace          = "AWS/Lambda", metric = "Duration", dimensions = local.fn, statistic = "Maximum"
      evaluation_periods = 3, datapoints = 2, threshold = local.timeout_ms * local.t.duration_share_of_timeout, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The slowest invocations took over ${local.t.duration_share_of_timeout * 100}% of the ${var.function_timeout_seconds} s timeout in 2 of 3 periods: batches are about to time out, and a timeout retries the whole batch. What to do: smaller batches, more memory (more CPU), or look for a throttled sink."
    }
    iterator-age = {
      include            = local.has_function, severity = "warning"
      namespace          = "AWS/Lambda", metric = "IteratorAge", dimensions = local.fn, statistic = "Maximum"
      evaluation_periods = 3, datapoints = 2, threshold = local.t.iterator_age_ms, comparison = "GreaterThanThreshold", missing = "ignore"
      description        = "The consumer is falling behind: the last record of a batch was over ${local.t.iterator_age_ms / 1000} s old when processed. What to do: raise the parallelization factor or the shard count, check errors and throttles; a stalled consumer keeps this alarm open."
    }
    record-age = {
      include            = local.has_function, severity = "critical"
      namespace          = "AWS/Lambda", metric = "IteratorAge", dimensions = local.fn, statistic = "Maximum"
      evaluation_periods = 1, datapoints = 1, threshold = floor(local.record_age_s * local.t.record_age_share * 1000), comparison = "GreaterThanThreshold", missing = "ignore"
      description        = "RECORDS AT RISK: the consumer is ${floor(local.record_age_s * local.t.record_age_share)} s behind, ${local.t.record_age_share * 100}% of the ${local.record_age_s} s maximum record age; at 100% Lambda gives records up to the failure path. What to do now: fix the consumer (errors, throttles, concurrency), or raise the maximum record age and the stream retention."
    }
    dropped-events = {
      include            = local.has_esm, severity = "critical"
      namespace          = "AWS/Lambda", metric = "DroppedEventCount", dimensions = local.esm, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "RECORDS LOST: the event source mapping dropped records (expired, or given up without reaching a destination). What to do: check the on-failure destination and the function's DestinationDeliveryFailures, and replay the lost range from the stream while it is still retained."
    }
    failed-invoke-events = {
      include            = local.has_esm, severity = "warning"
      namespace          = "AWS/Lambda", metric = "FailedInvokeEventCount", dimensions = local.esm, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.failed_invoke_events, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The event source mapping's invocations failed (function errors, throttles or reported batch item failures): the records are being retried. What to do: see the records-failed, lambda-errors and lambda-throttles alarms for which one."
    }
    on-failure-delivered = {
      include            = local.has_esm, severity = "critical"
      namespace          = "AWS/Lambda", metric = "OnFailureDestinationDeliveredEventCount", dimensions = local.esm, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "Records exhausted their retries or their maximum age and were sent to the on-failure destination. What to do: read why in the log group, fix the cause, and replay them from the stream before its retention ends."
    }
    destination-delivery-failures = {
      include            = local.has_function, severity = "critical"
      namespace          = "AWS/Lambda", metric = "DestinationDeliveryFailures", dimensions = local.fn, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "RECORDS LOST SILENTLY: Lambda could not deliver failed records to the on-failure destination (permissions, a deleted or full destination, size). What to do: fix the destination and the role's permissions now; replay the affected range from the stream."
    }
    kinesis-write-throughput-exceeded = {
      include            = local.has_stream, severity = "warning"
      namespace          = "AWS/Kinesis", metric = "WriteProvisionedThroughputExceeded", dimensions = local.stream, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "Producers are throttled by the stream (1,000 records/s or 1 MiB/s per shard). What to do: add shards or switch to on-demand; producers must retry the entries PutRecords reports as failed."
    }
    kinesis-read-throughput-exceeded = {
      include            = local.has_stream && !local.efo, severity = "warning"
      namespace          = "AWS/Kinesis", metric = "ReadProvisionedThroughputExceeded", dimensions = local.stream, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "Consumers sharing the stream's read throughput (2 MiB/s and 5 reads/s per shard) are throttled. What to do: fewer shared consumers, or enhanced fan-out for this one."
    }
    kinesis-subscribe-rate-exceeded = {
      include            = local.efo, severity = "warning"
      namespace          = "AWS/Kinesis", metric = "SubscribeToShard.RateExceeded", dimensions = merge(local.stream, { ConsumerName = var.kinesis_consumer_name }), statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The enhanced fan-out consumer's SubscribeToShard calls are throttled (one per shard per 5 s). What to do: make sure no other process uses this consumer; check the mapping's state."
    }
    sink-write-throttles = {
      include = local.has_sink, severity = "warning"
      # DynamoDB publishes WriteThrottleEvents only when there are throttles. FILL(m, 0) turns the
      # missing periods into zeros, so the alarm sees the throttling stop and returns to OK.
      expression         = "FILL(m, 0)", namespace = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = var.sink_table_name }, statistic = "Sum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.sink_write_throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description        = "The sink table throttles writes; the handler retries them until its deadline, then reports the records failed. What to do: raise the table's write capacity or switch it to on-demand."
    }
    on-failure-queue = {
      include            = local.has_queue, severity = "critical"
      namespace          = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.on_failure_queue_name }, statistic = "Maximum"
      evaluation_periods = 1, datapoints = 1, threshold = local.t.on_failure_messages, comparison = "GreaterThanThreshold", missing = "ignore"
      description        = "Batches gave up and are in the on-failure queue. Each message names a shard and a sequence-number range. What to do: fix the cause, replay the range from the stream, then delete the message."
    }
    failure-replay-window = {
      include            = local.has_queue, severity = "critical"
      namespace          = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", dimensions = { QueueName = var.on_failure_queue_name }, statistic = "Maximum"
      evaluation_periods = 1, datapoints = 1, threshold = floor(local.replay_window_s * local.t.replay_window_share), comparison = "GreaterThanThreshold", missing = "ignore"
      description        = "REPLAY WINDOW CLOSING: the oldest failure has waited ${floor(local.replay_window_s * local.t.replay_window_share)} s, ${local.t.replay_window_share * 100}% of the ${local.replay_window_s} s its records are sure to stay in the stream (retention minus maximum record age). After that a replay is impossible. What to do now: replay the ranges in the on-failure queue."
    }
    stream-silent = {
      include            = var.silent_stream && (local.has_stream || local.has_function), severity = "warning"
      namespace          = local.has_stream ? "AWS/Kinesis" : "AWS/Lambda"
      metric             = local.has_stream ? "IncomingRecords" : "Invocations"
      dimensions         = local.has_stream ? local.stream : local.fn
      statistic          = "Sum"
      evaluation_periods = local.t.silent_stream_periods, datapoints = local.t.silent_stream_periods
      threshold          = 1, comparison = "LessThanThreshold", missing = "breaching"
      description        = "Nothing has arrived for ${local.t.silent_stream_periods * var.period_seconds} s. What to do: check the producers; for a DynamoDB source, check that the mapping is enabled."
    }
  }

  # One shape for every alarm (the optional expression defaults to null), so they form one map.
  alarms = {
    for key, d in local.definitions : key => {
      severity           = d.severity
      description        = d.description
      namespace          = d.namespace
      metric             = d.metric
      dimensions         = d.dimensions
      statistic          = d.statistic
      expression         = try(d.expression, null)
      evaluation_periods = d.evaluation_periods
      datapoints         = d.datapoints
      threshold          = d.threshold
      comparison         = d.comparison
      missing            = d.missing
    } if local.enabled && d.include
  }

  topic_arn = local.enabled ? coalesce(var.sns_topic_arn, try(aws_sns_topic.this[0].arn, null)) : null
  # Paging: by default the severity composites page and the member alarms notify nobody, so one
  # incident pages once. `each` restores a notification per member alarm (and keeps the composites
  # silent, for the dashboard).
  member_actions    = var.paging == "each" && local.topic_arn != null ? [local.topic_arn] : []
  composite_actions = var.paging == "composite" && local.topic_arn != null ? [local.topic_arn] : []
  severities = {
    critical = "Records of the ${var.name} pipeline are at risk or lost"
    warning  = "The ${var.name} pipeline is degraded"
  }
  members = {
    for severity in keys(local.severities) : severity => [for key, d in local.alarms : key if d.severity == severity]
  }
}

resource "aws_kms_key" "this" {
  count = local.create_topic ? 1 : 0

  # CloudWatch cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key (its
  # policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer key (~$1/month).
  description             = "Encrypts the ${var.name} alarm topic; usable by CloudWatch alarms."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_topic ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.this[0].key_id
}

locals {
  # The account and partition come from the key's own ARN: no sts:GetCallerIdentity call needed.
  key_arn_parts = local.create_topic ? split(":", aws_kms_key.this[0].arn) : []
  partition     = local.create_topic ? local.key_arn_parts[1] : null
  account_id    = local.create_topic ? local.key_arn_parts[4] : null
}

resource "aws_kms_key_policy" "this" {
  count = local.create_topic ? 1 : 0

  key_id = aws_kms_key.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # In a key policy, "*" means this key.
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*" # In a key policy, "*" means this key.
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "this" {
  count = local.create_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this[0].arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "this" {
  count = local.create_topic ? 1 : 0

  arn = aws_sns_topic.this[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsOfThisAccountPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.this[0].arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.enabled ? toset(var.email_addresses) : toset([])

  topic_arn = local.topic_arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = "${var.name}-${each.key}"
  alarm_description = each.value.description

  # A plain metric alarm, or (with an expression) a metric-math alarm over that one metric.
  namespace   = each.value.expression == null ? each.value.namespace : null
  metric_name = each.value.expression == null ? each.value.metric : null
  dimensions  = each.value.expression == null ? each.value.dimensions : null
  statistic   = each.value.expression == null ? each.value.statistic : null
  period      = each.value.expression == null ? var.period_seconds : null

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value]
    content {
      id          = "e"
      expression  = metric_query.value.expression
      label       = "${metric_query.value.metric} (missing periods as 0)"
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value]
    content {
      id = "m"
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.metric
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.statistic
        period      = var.period_seconds
      }
    }
  }

  evaluation_periods        = each.value.evaluation_periods
  datapoints_to_alarm       = each.value.datapoints
  threshold                 = each.value.threshold
  comparison_operator       = each.value.comparison
  treat_missing_data        = each.value.missing
  alarm_actions             = local.member_actions
  ok_actions                = var.notify_on_ok ? local.member_actions : []
  insufficient_data_actions = var.notify_on_insufficient_data ? local.member_actions : []
  tags                      = merge(var.tags, { Severity = each.value.severity })

  lifecycle {
    precondition {
      condition     = !contains(keys(each.value.dimensions), "EventSourceMappingUUID") || var.event_source_mapping_uuid != null
      error_message = "The alarm ${each.key} needs event_source_mapping_uuid (event_source_mapping_metrics is on); pass the consumer module's event_source_mapping_uuid, or set event_source_mapping_metrics = false."
    }
    precondition {
      condition     = var.period_seconds >= 60 || var.local_emulator
      error_message = "An alarm period of ${var.period_seconds} s is below AWS's one-minute resolution for these metrics, so the alarms would sit in INSUFFICIENT_DATA. Use 60 or more, or set local_emulator = true when applying to LocalStack."
    }
    precondition {
      condition     = var.period_seconds * local.t.silent_stream_periods <= 86400
      error_message = "The silent-stream alarm would look back ${var.period_seconds * local.t.silent_stream_periods} s (period_seconds x thresholds.silent_stream_periods); CloudWatch evaluates at most one day. Lower one of them."
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "severity" {
  for_each = { for severity, members in local.members : severity => members if length(members) > 0 }

  alarm_name        = "${var.name}-${each.key}"
  alarm_description = "${local.severities[each.key]}. This alarm pages once for any of: ${join(", ", each.value)}. What to do: its state reason names the member alarms in ALARM; each member's description says what it means and what to do. A member that stays in ALARM keeps this one in ALARM: look at the dashboard's alarm widget for new ones."
  alarm_rule        = join(" OR ", [for key in each.value : "ALARM(\"${aws_cloudwatch_metric_alarm.this[key].alarm_name}\")"])
  alarm_actions     = local.composite_actions
  ok_actions        = var.notify_on_ok ? local.composite_actions : []
  tags              = merge(var.tags, { Severity = each.key })
}

resource "aws_cloudwatch_metric_alarm" "billing" {
  count = local.enabled && var.billing_alarm.enabled ? 1 : 0

  alarm_name          = "${var.name}-estimated-charges"
  alarm_description   = "Estimated charges of the account for this month are above $${var.billing_alarm.threshold_usd}. What to do: open Cost Explorer, group by service, and look for the pipeline's shards, enhanced fan-out and logs."
  namespace           = "AWS/Billing"
  metric_name         = "EstimatedCharges"
  dimensions          = { Currency = "USD" }
  statistic           = "Maximum"
  period              = 21600 # the metric is published a few times a day
  evaluation_periods  = 1
  threshold           = var.billing_alarm.threshold_usd
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = compact([local.topic_arn])
  tags                = var.tags

  lifecycle {
    precondition {
      condition     = data.aws_region.current.id == "us-east-1"
      error_message = "The billing alarm needs the us-east-1 provider: AWS publishes EstimatedCharges only in us-east-1. Use a second modules/alarms instance with providers = { aws = aws.us_east_1 }, or leave billing_alarm disabled."
    }
  }
}

resource "aws_budgets_budget" "monthly" {
  count = local.enabled && var.budget.enabled ? 1 : 0

  # Budgets are account-wide: the region keeps the same pipeline name in two regions apart.
  name         = "${var.name}-${data.aws_region.current.id}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.budget.limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.email_addresses
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = var.email_addresses
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.email_addresses) > 0
      error_message = "The budget needs at least one address in email_addresses to notify."
    }
  }
}
