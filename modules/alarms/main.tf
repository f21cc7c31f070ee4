data "aws_region" "current" {}

locals {
  enabled      = var.enabled
  create_topic = local.enabled && var.sns_topic_arn == null
  kinesis      = var.source_type == "kinesis"
  t            = var.thresholds
  period       = var.period_seconds
  retention_s  = var.stream_retention_hours * 3600
  has_stream   = local.kinesis && var.stream_name != null
  stream       = { StreamName = var.stream_name }
  runbook_url  = coalesce(var.runbook_url, "${local.repository_url}/blob/v${local.module_version}/docs/RUNBOOK.md")
  # The project's canonical repository and this module's release: every alarm links to the runbook
  # of the release it was applied from. A fork or a mirror sets runbook_url.
  repository_url = "https://github.com/terraform-aws-stream-pipeline/terraform-aws-stream-pipeline"
  module_version = trimspace(file("${path.module}/../../VERSION"))

  # What there is to watch, per consumer. An alarm whose dimension is unknown is never created: an
  # `Errors` alarm without FunctionName would watch every function of the account. Every switch is
  # known at plan (a mapping's UUID is not, so `event_source_mapping_metrics` says whether it exists).
  consumers = {
    for key, c in var.consumers : key => {
      prefix       = key == "default" ? "" : "${key}/"
      name         = c.function_name
      fn           = { FunctionName = c.function_name }
      esm          = { EventSourceMappingUUID = c.event_source_mapping_uuid }
      handler      = { SourceType = var.source_type, service = c.service_name }
      namespace    = c.metrics_namespace
      efo          = local.has_stream && c.kinesis_consumer_name != null
      efo_dims     = { StreamName = var.stream_name, ConsumerName = c.kinesis_consumer_name }
      has_esm      = c.event_source_mapping_metrics
      polling      = c.event_source_mapping_metrics && c.event_source_mapping_enabled
      has_handler  = c.handler_metrics && c.service_name != null
      sink         = c.sink_table_name
      queue        = c.on_failure_queue_name
      timeout_s    = c.function_timeout_seconds
      uuid_missing = c.event_source_mapping_metrics && c.event_source_mapping_uuid == null
      # The age at which Lambda gives a record up to the failure path (the consumer module passes its
      # effective value; alone, this module assumes the consumer module's default, half the retention),
      # and the window in which a failed record is sure to still be in the stream.
      record_age_s = coalesce(c.maximum_record_age_seconds, min(604800, floor(local.retention_s / 2)))
    }
  }

  # The replay window alarm watches presence, not age: "the queue has held messages in every period
  # of the last X", which SQS's receive counting cannot blind (ApproximateAgeOfOldestMessage skips a
  # message received three times). X is the configured share of the window, capped at the 7 days an
  # alarm can look back. About 6 periods cover X, so a failure fires it between 5/6 X and X. A period
  # is a minute at least (an hour at the defaults), so that redrive's short in-flight hold (30 s)
  # never empties one, on LocalStack too.
  replay = {
    for key, c in local.consumers : key => {
      window_s = local.retention_s - c.record_age_s
      x_s      = min(604800, max(1, floor((local.retention_s - c.record_age_s) * local.t.replay_window_share)))
      period   = max(60, floor(min(604800, max(1, floor((local.retention_s - c.record_age_s) * local.t.replay_window_share))) / 6 / 60) * 60)
    }
  }

  # treat_missing_data, chosen per alarm:
  # - notBreaching for counts that AWS publishes only when non-zero (Errors, Throttles, the event
  #   source mapping's failure counts): silence is the healthy case, and the alarm returns to OK.
  # - ignore for ages (IteratorAge) and the failure queue: a stalled consumer publishes no IteratorAge,
  #   and SQS stops publishing for an empty queue idle for six hours, so silence keeps the state.
  # - missing for consumer-stopped (a polling mapping publishes PolledEventCount, 0 on an empty poll,
  #   every minute): no poll for a whole evaluation range is INSUFFICIENT_DATA, and that pages.
  # - breaching for the opt-in stream-silent, whose whole point is silence.
  #
  # page, the paging design (see README "Paging"):
  # - direct: a loss-class alarm (records at risk, given up or closing on their window) pages on its
  #   own, so a new one always notifies, whatever else is standing;
  # - lost: dropped-events and destination-delivery-failures are one incident (a failed delivery is
  #   also counted as dropped), so one composite pages for both;
  # - failing / behind: degraded symptoms of one consumer that fire together for one cause page once
  #   through a composite per class; `failing` waits for the failure path (actions_suppressor), so a
  #   poison record pages once, as on-failure-delivered, not as a warning and then again;
  # - status: shown (dashboard, doctor), never paged.
  per_consumer = merge([
    for ck, c in local.consumers : {
      for key, d in {
        lambda-errors = {
          include            = true, severity = "warning"
          namespace          = "AWS/Lambda", metric = "Errors", dimensions = c.fn, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = local.t.errors, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "More than ${local.t.errors} failed invocation(s) of ${c.name} in ${local.period} s."
        }
        records-failed = {
          include            = c.has_handler, severity = "warning"
          namespace          = c.namespace, metric = "RecordsFailed", dimensions = c.handler, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = local.t.records_failed, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "${c.name} reported more than ${local.t.records_failed} record(s) failed in ${local.period} s."
        }
        failed-invoke-events = {
          include            = c.has_esm, severity = "warning"
          namespace          = "AWS/Lambda", metric = "FailedInvokeEventCount", dimensions = c.esm, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = local.t.failed_invoke_events, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "The mapping of ${c.name} counted more than ${local.t.failed_invoke_events} failed invoke event(s) in ${local.period} s."
        }
        lambda-throttles = {
          include            = true, severity = "warning"
          namespace          = "AWS/Lambda", metric = "Throttles", dimensions = c.fn, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = local.t.throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "${c.name} was throttled more than ${local.t.throttles} time(s) in ${local.period} s."
        }
        lambda-duration = {
          # Maximum, not Average (which hides the slow tail): the batch that nears the timeout is the one
          # Lambda retries whole. p99 would serve too, but LocalStack cannot evaluate percentile alarms,
          # and Maximum is what the drills can prove.
          include            = true, severity = "warning"
          namespace          = "AWS/Lambda", metric = "Duration", dimensions = c.fn, statistic = "Maximum"
          evaluation_periods = 3, datapoints = 2, threshold = c.timeout_s * 1000 * local.t.duration_share_of_timeout, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "The slowest invocations of ${c.name} took over ${local.t.duration_share_of_timeout * 100}% of its ${c.timeout_s} s timeout in 2 of 3 periods."
        }
        iterator-age = {
          include            = true, severity = "warning"
          namespace          = "AWS/Lambda", metric = "IteratorAge", dimensions = c.fn, statistic = "Maximum"
          evaluation_periods = 3, datapoints = 2, threshold = local.t.iterator_age_ms, comparison = "GreaterThanThreshold", missing = "ignore"
          detail             = "${c.name} processed records over ${local.t.iterator_age_ms / 1000} s old in 2 of 3 periods."
        }
        enhanced-fan-out-lag = {
          include            = c.efo, severity = "warning"
          namespace          = "AWS/Kinesis", metric = "SubscribeToShardEvent.MillisBehindLatest", dimensions = c.efo_dims, statistic = "Maximum"
          evaluation_periods = 3, datapoints = 2, threshold = local.t.iterator_age_ms, comparison = "GreaterThanThreshold", missing = "ignore"
          detail             = "The enhanced fan-out consumer of ${c.name} was over ${local.t.iterator_age_ms / 1000} s behind in 2 of 3 periods."
        }
        kinesis-subscribe-rate-exceeded = {
          include            = c.efo, severity = "warning"
          namespace          = "AWS/Kinesis", metric = "SubscribeToShard.RateExceeded", dimensions = c.efo_dims, statistic = "Sum"
          evaluation_periods = 3, datapoints = 3, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "The SubscribeToShard calls of ${c.name}'s enhanced fan-out consumer were refused in 3 periods in a row."
        }
        sink-write-throttles = {
          # DynamoDB publishes WriteThrottleEvents only when there are throttles. FILL(m, 0) turns the
          # missing periods into zeros, so the alarm sees the throttling stop and returns to OK.
          include            = c.sink != null, severity = "warning", expression = "FILL(m, 0)"
          namespace          = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = c.sink }, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = local.t.sink_write_throttles, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "The sink ${coalesce(c.sink, "-")} of ${c.name} throttled more than ${local.t.sink_write_throttles} write(s) in ${local.period} s."
        }
        record-age = {
          include            = true, severity = "critical"
          namespace          = "AWS/Lambda", metric = "IteratorAge", dimensions = c.fn, statistic = "Maximum"
          evaluation_periods = 1, datapoints = 1, threshold = floor(c.record_age_s * local.t.record_age_share * 1000), comparison = "GreaterThanThreshold", missing = "ignore"
          detail             = "${c.name} is ${floor(c.record_age_s * local.t.record_age_share)} s behind, ${local.t.record_age_share * 100}% of its ${c.record_age_s} s maximum record age."
        }
        consumer-stopped = {
          # Silence is the incident, but not the silence before the first poll: with `missing`, an
          # alarm created before its mapping has published stays INSUFFICIENT_DATA (no page at every
          # deploy, as `breaching` would give), turns OK on the first poll, and goes back to
          # INSUFFICIENT_DATA when a whole evaluation range has no poll: that transition pages.
          include            = c.polling, severity = "critical", page_on_insufficient_data = true
          namespace          = "AWS/Lambda", metric = "PolledEventCount", dimensions = c.esm, statistic = "SampleCount"
          evaluation_periods = local.t.stopped_periods, datapoints = local.t.stopped_periods, threshold = 1, comparison = "LessThanThreshold", missing = "missing"
          detail             = "The mapping of ${c.name} has not polled for ${local.t.stopped_periods * local.period} s (no PolledEventCount): this alarm pages when it goes to INSUFFICIENT_DATA."
        }
        dropped-events = {
          include            = c.has_esm, severity = "critical"
          namespace          = "AWS/Lambda", metric = "DroppedEventCount", dimensions = c.esm, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "The mapping of ${c.name} dropped records in the last ${local.period} s."
        }
        destination-delivery-failures = {
          include            = true, severity = "critical"
          namespace          = "AWS/Lambda", metric = "DestinationDeliveryFailures", dimensions = c.fn, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "Lambda could not deliver failed records of ${c.name} to its on-failure destination in the last ${local.period} s."
        }
        on-failure-delivered = {
          include            = c.has_esm, severity = "critical"
          namespace          = "AWS/Lambda", metric = "OnFailureDestinationDeliveredEventCount", dimensions = c.esm, statistic = "Sum"
          evaluation_periods = 1, datapoints = 1, threshold = 0, comparison = "GreaterThanThreshold", missing = "notBreaching"
          detail             = "Records of ${c.name} were sent to its on-failure destination in the last ${local.period} s."
        }
        on-failure-queue = {
          # Any of the last 3 periods: a redrive that holds a message in flight for a while does not
          # flip it to OK. A status while on-failure-delivered pages; the page itself without it.
          include            = c.queue != null, severity = c.has_esm ? "info" : "critical"
          namespace          = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = c.queue }, statistic = "Maximum"
          evaluation_periods = 3, datapoints = 1, threshold = local.t.on_failure_messages, comparison = "GreaterThanThreshold", missing = "ignore"
          detail             = "The on-failure queue ${coalesce(c.queue, "-")} of ${c.name} held more than ${local.t.on_failure_messages} message(s) in the last 3 periods."
        }
        failure-replay-window = {
          include            = c.queue != null, severity = "critical", period = local.replay[ck].period
          namespace          = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = c.queue }, statistic = "Maximum"
          evaluation_periods = max(1, floor(local.replay[ck].x_s / local.replay[ck].period)), datapoints = max(1, floor(local.replay[ck].x_s / local.replay[ck].period))
          threshold          = 1, comparison = "GreaterThanOrEqualToThreshold", missing = "ignore"
          detail             = "The on-failure queue of ${c.name} has held failures for ${max(1, floor(local.replay[ck].x_s / local.replay[ck].period)) * local.replay[ck].period} s, ${local.t.replay_window_share * 100}% of the ${local.replay[ck].window_s} s its records are sure to stay in the stream."
        }
        } : "${c.prefix}${key}" => merge(d, {
          catalog  = key
          consumer = ck
          name     = "${c.name}-${key}"
          # The catalog's route, but for the queue's alarm, which pages when nothing else would.
          page = key == "on-failure-queue" && !c.has_esm ? "direct" : local.catalog[key].page
      }) if d.include
    }
  ]...)

  # Once per stream, whatever the number of consumers.
  per_stream = {
    for key, d in {
      kinesis-write-throughput-exceeded = {
        include            = local.has_stream, severity = "warning"
        namespace          = "AWS/Kinesis", metric = "WriteProvisionedThroughputExceeded", dimensions = local.stream, statistic = "Sum"
        evaluation_periods = 1, datapoints = 1, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
        detail             = "Producers of the stream ${coalesce(var.stream_name, "-")} were throttled more than ${local.t.kinesis_throughput_exceeded} time(s) in ${local.period} s."
      }
      kinesis-read-throughput-exceeded = {
        include            = local.has_stream && anytrue([for c in local.consumers : !c.efo]), severity = "warning"
        namespace          = "AWS/Kinesis", metric = "ReadProvisionedThroughputExceeded", dimensions = local.stream, statistic = "Sum"
        evaluation_periods = 1, datapoints = 1, threshold = local.t.kinesis_throughput_exceeded, comparison = "GreaterThanThreshold", missing = "notBreaching"
        detail             = "The shared-throughput readers of ${coalesce(var.stream_name, "-")} were throttled more than ${local.t.kinesis_throughput_exceeded} time(s) in ${local.period} s."
      }
      stream-silent = {
        include            = var.silent_stream && (local.has_stream || length(local.consumers) > 0), severity = "warning"
        namespace          = local.has_stream ? "AWS/Kinesis" : "AWS/Lambda"
        metric             = local.has_stream ? "IncomingRecords" : "Invocations"
        dimensions         = local.has_stream ? local.stream : { FunctionName = try(values(local.consumers)[0].name, null) }
        statistic          = "Sum"
        evaluation_periods = local.t.silent_stream_periods, datapoints = local.t.silent_stream_periods
        threshold          = 1, comparison = "LessThanThreshold", missing = "breaching"
        detail             = "Nothing has arrived for ${local.t.silent_stream_periods * local.period} s."
      }
    } : key => merge(d, { catalog = key, consumer = null, name = "${var.name}-${key}", page = "direct" }) if d.include
  }

  # One shape for every alarm (the optional expression and period default to null), so they form one map.
  alarms = {
    for key, d in merge(local.per_consumer, local.per_stream) : key => {
      name               = d.name
      catalog            = d.catalog
      consumer           = d.consumer
      page               = d.page
      severity           = d.severity
      notify             = var.paging == "each" || d.page == "direct"
      insufficient       = try(d.page_on_insufficient_data, false)
      namespace          = d.namespace
      metric             = d.metric
      dimensions         = d.dimensions
      statistic          = d.statistic
      expression         = try(d.expression, null)
      period             = try(d.period, local.period)
      evaluation_periods = d.evaluation_periods
      datapoints         = d.datapoints
      threshold          = d.threshold
      comparison         = d.comparison
      missing            = d.missing
      description = join(" ", [
        "${local.catalog[d.catalog].title}.", d.detail,
        "What to do: ${local.catalog[d.catalog].action}",
        "Runbook: ${local.runbook_url}#${d.catalog}",
      ])
    } if local.enabled
  }

  topic_arn = local.enabled ? coalesce(var.sns_topic_arn, try(aws_sns_topic.this[0].arn, null)) : null
  actions   = local.topic_arn == null ? [] : [local.topic_arn]

  # The incident composites, per consumer: the members of each class, and (for `failing`) the alarm
  # that means the failure reached the failure path.
  composite_classes = {
    failing = "Records of {name} are failing"
    behind  = "{name} is falling behind"
    lost    = "RECORDS LOST: {name} dropped records"
  }
  composites = merge([
    for ck, c in local.consumers : {
      for class, title in local.composite_classes : "${c.prefix}${class}" => {
        name    = "${c.name}-${class}"
        title   = replace(title, "{name}", c.name)
        members = [for key, a in local.alarms : key if a.consumer == ck && a.page == class]
        suppressor = (
          class != "failing" ? null :
          contains(keys(local.alarms), "${c.prefix}on-failure-delivered") ? "${c.prefix}on-failure-delivered" :
          contains(keys(local.alarms), "${c.prefix}on-failure-queue") ? "${c.prefix}on-failure-queue" : null
        )
      }
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = each.value.name
  alarm_description = each.value.description

  # A plain metric alarm, or (with an expression) a metric-math alarm over that one metric.
  namespace   = each.value.expression == null ? each.value.namespace : null
  metric_name = each.value.expression == null ? each.value.metric : null
  dimensions  = each.value.expression == null ? each.value.dimensions : null
  statistic   = each.value.expression == null ? each.value.statistic : null
  period      = each.value.expression == null ? each.value.period : null

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
        period      = metric_query.value.period
      }
    }
  }

  evaluation_periods        = each.value.evaluation_periods
  datapoints_to_alarm       = each.value.datapoints
  threshold                 = each.value.threshold
  comparison_operator       = each.value.comparison
  treat_missing_data        = each.value.missing
  alarm_actions             = each.value.notify ? local.actions : []
  ok_actions                = each.value.notify && var.notify_on_ok ? local.actions : []
  insufficient_data_actions = each.value.notify && (var.notify_on_insufficient_data || each.value.insufficient) ? local.actions : []
  tags                      = merge(var.tags, { Severity = each.value.severity, Paging = each.value.page }, each.value.consumer == null ? {} : { Consumer = each.value.consumer })

  lifecycle {
    precondition {
      condition     = try(each.value.dimensions["EventSourceMappingUUID"], "absent") != null
      error_message = "The alarm ${each.key} needs the consumer's event_source_mapping_uuid (event_source_mapping_metrics is on): pass the consumer module's event_source_mapping_uuid, or set event_source_mapping_metrics = false."
    }
    precondition {
      condition     = var.period_seconds >= 60 || var.local_emulator
      error_message = "An alarm period of ${var.period_seconds} s is below AWS's one-minute resolution for these metrics, so the alarms would sit in INSUFFICIENT_DATA. Use 60 or more, or set local_emulator = true when applying to LocalStack."
    }
    precondition {
      condition     = var.period_seconds * max(local.t.silent_stream_periods, local.t.stopped_periods) <= 86400
      error_message = "An alarm would look back ${var.period_seconds * max(local.t.silent_stream_periods, local.t.stopped_periods)} s (period_seconds x thresholds.silent_stream_periods or stopped_periods); CloudWatch evaluates at most one day for periods under an hour. Lower one of them."
    }
    precondition {
      condition     = length(each.value.description) <= 1024
      error_message = "The description of the alarm ${each.key} is ${length(each.value.description)} characters; CloudWatch takes at most 1024 (a shorter runbook_url helps)."
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "incident" {
  for_each = { for key, c in local.composites : key => c if length(c.members) > 0 }

  alarm_name        = each.value.name
  alarm_description = "${each.value.title}: one page for any of ${join(", ", [for key in each.value.members : local.alarms[key].name])}. What to do: the state reason names the alarm in ALARM; its description and the runbook (${local.runbook_url}) say what to do."
  # ARNs, not names: CloudWatch accepts both, and LocalStack evaluates OR rules over ARNs only.
  alarm_rule    = join(" OR ", [for key in each.value.members : "ALARM(\"${aws_cloudwatch_metric_alarm.this[key].arn}\")"])
  alarm_actions = var.paging == "composite" ? local.actions : []
  ok_actions    = var.paging == "composite" && var.notify_on_ok ? local.actions : []
  tags          = merge(var.tags, { Paging = "composite" })

  # A poison record fails (records-failed) and, once its retries are spent, reaches the failure path
  # (on-failure-delivered, which pages on its own). Waiting two periods for that, and staying quiet a
  # period after it, makes one poison record one page.
  dynamic "actions_suppressor" {
    for_each = each.value.suppressor == null ? [] : [each.value.suppressor]
    content {
      alarm            = aws_cloudwatch_metric_alarm.this[actions_suppressor.value].alarm_name
      wait_period      = 2 * local.period
      extension_period = local.period
    }
  }
}
