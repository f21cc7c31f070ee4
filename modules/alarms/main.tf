data "aws_region" "current" {}

locals {
  enabled      = var.enabled
  kinesis      = var.source_type == "kinesis"
  t            = var.thresholds
  fn           = { FunctionName = var.function_name }
  retention_ms = var.stream_retention_hours * 3600 * 1000
  timeout_ms   = var.function_timeout_seconds * 1000

  # One definition per alarm. treat_missing_data is chosen per metric: an idle pipeline publishes no
  # Errors or IteratorAge, which is healthy ("notBreaching"); silence is only breaching for the
  # silent-stream alarm, whose whole point is missing data.
  definitions = {
    lambda-errors = {
      include     = true
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.fn, statistic = "Sum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.errors, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "The consumer failed an invocation: records are being retried, bisected or sent to the on-failure queue."
    }
    lambda-duration = {
      include     = true
      namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.fn, statistic = "Average"
      period      = var.period_seconds, evaluation_periods = 3, datapoints = 2
      threshold   = local.timeout_ms * local.t.duration_share_of_timeout, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "Average duration is above ${local.t.duration_share_of_timeout * 100}% of the ${var.function_timeout_seconds} s timeout: batches are close to timing out (smaller batches, more memory, or a slow sink)."
    }
    lambda-throttles = {
      include     = true
      namespace   = "AWS/Lambda", metric = "Throttles", dimensions = local.fn, statistic = "Sum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "The consumer is throttled: reserved concurrency is below shards x parallelization factor, or the account limit is reached."
    }
    iterator-age = {
      include     = true
      namespace   = "AWS/Lambda", metric = "IteratorAge", dimensions = local.fn, statistic = "Maximum"
      period      = var.period_seconds, evaluation_periods = 3, datapoints = 2
      threshold   = local.t.iterator_age_ms, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "Stream processing is falling behind: the newest record processed is over ${local.t.iterator_age_ms / 1000} s old."
    }
    iterator-age-retention = {
      include     = true
      namespace   = "AWS/Lambda", metric = "IteratorAge", dimensions = local.fn, statistic = "Maximum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = floor(local.retention_ms * local.t.iterator_age_share_of_retention), comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "DATA LOSS RISK: the consumer is ${local.t.iterator_age_share_of_retention * 100}% of the ${var.stream_retention_hours} h retention behind; at 100% records expire unread. Raise retention now, then fix the consumer."
    }
    kinesis-write-throughput-exceeded = {
      include     = local.kinesis
      namespace   = "AWS/Kinesis", metric = "WriteProvisionedThroughputExceeded", dimensions = { StreamName = var.stream_name }, statistic = "Sum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "Producers are throttled by the stream: add shards, or pack more per record."
    }
    kinesis-read-throughput-exceeded = {
      include     = local.kinesis
      namespace   = "AWS/Kinesis", metric = "ReadProvisionedThroughputExceeded", dimensions = { StreamName = var.stream_name }, statistic = "Sum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "Consumers are throttled reading the stream: too many shared-throughput consumers; consider enhanced fan-out."
    }
    sink-write-throttles = {
      include     = var.sink_table_name != null
      namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = var.sink_table_name }, statistic = "Sum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.sink_write_throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "The sink table throttles writes: raise its write capacity or switch it to on-demand."
    }
    on-failure-queue = {
      include     = true
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.on_failure_queue_name }, statistic = "Maximum"
      period      = var.period_seconds, evaluation_periods = 1, datapoints = 1
      threshold   = local.t.on_failure_messages, comparison = "GreaterThanThreshold", missing = "notBreaching"
      description = "Batches gave up and were sent to the on-failure queue. Each message names a shard and sequence range to replay from the stream before its retention ends."
    }
    stream-silent = {
      include            = var.silent_stream
      namespace          = local.kinesis ? "AWS/Kinesis" : "AWS/Lambda"
      metric             = local.kinesis ? "IncomingRecords" : "Invocations"
      dimensions         = local.kinesis ? { StreamName = var.stream_name } : local.fn
      statistic          = "Sum", period = var.period_seconds
      evaluation_periods = local.t.silent_stream_periods, datapoints = local.t.silent_stream_periods
      threshold          = 1, comparison = "LessThanThreshold", missing = "breaching"
      description        = "Nothing has arrived for ${local.t.silent_stream_periods * var.period_seconds} seconds: a producer may be down."
    }
  }

  alarms = { for key, d in local.definitions : key => d if local.enabled && d.include }
}

resource "aws_kms_key" "this" {
  count = local.enabled ? 1 : 0

  # CloudWatch cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key (its
  # policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer key (~$1/month).
  description             = "Encrypts the ${var.name} alarm topic; usable by CloudWatch alarms."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.enabled ? 1 : 0

  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.this[0].key_id
}

locals {
  # The account and partition come from the key's own ARN: no sts:GetCallerIdentity call needed.
  key_arn_parts = local.enabled ? split(":", aws_kms_key.this[0].arn) : []
  partition     = local.enabled ? local.key_arn_parts[1] : null
  account_id    = local.enabled ? local.key_arn_parts[4] : null
}

resource "aws_kms_key_policy" "this" {
  count = local.enabled ? 1 : 0

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
  count = local.enabled ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this[0].arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "this" {
  count = local.enabled ? 1 : 0

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

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name                = "${var.name}-${each.key}"
  alarm_description         = each.value.description
  namespace                 = each.value.namespace
  metric_name               = each.value.metric
  dimensions                = each.value.dimensions
  statistic                 = each.value.statistic
  period                    = each.value.period
  evaluation_periods        = each.value.evaluation_periods
  datapoints_to_alarm       = each.value.datapoints
  threshold                 = each.value.threshold
  comparison_operator       = each.value.comparison
  treat_missing_data        = each.value.missing
  alarm_actions             = [aws_sns_topic.this[0].arn]
  ok_actions                = var.notify_on_ok ? [aws_sns_topic.this[0].arn] : []
  insufficient_data_actions = var.notify_on_insufficient_data ? [aws_sns_topic.this[0].arn] : []
  tags                      = var.tags
}

resource "aws_cloudwatch_composite_alarm" "unhealthy" {
  count = local.enabled ? 1 : 0

  alarm_name        = "${var.name}-pipeline-unhealthy"
  alarm_description = "Any alarm of the ${var.name} pipeline is in ALARM: one page for the whole pipeline."
  alarm_rule        = join(" OR ", [for a in aws_cloudwatch_metric_alarm.this : "ALARM(\"${a.alarm_name}\")"])
  alarm_actions     = [aws_sns_topic.this[0].arn]
  ok_actions        = var.notify_on_ok ? [aws_sns_topic.this[0].arn] : []
  tags              = var.tags
}

resource "aws_cloudwatch_metric_alarm" "billing" {
  count = local.enabled && var.billing_alarm.enabled ? 1 : 0

  alarm_name          = "${var.name}-estimated-charges"
  alarm_description   = "Estimated charges of the account for this month are above $${var.billing_alarm.threshold_usd}."
  namespace           = "AWS/Billing"
  metric_name         = "EstimatedCharges"
  dimensions          = { Currency = "USD" }
  statistic           = "Maximum"
  period              = 21600 # the metric is published a few times a day
  evaluation_periods  = 1
  threshold           = var.billing_alarm.threshold_usd
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this[0].arn]
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

  name         = "${var.name}-monthly"
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

  lifecycle {
    precondition {
      condition     = length(var.email_addresses) > 0
      error_message = "The budget needs at least one address in email_addresses to notify."
    }
  }
}
