# modules/alarms on its own: the alarm math, missing-data choices, paging, and what is left out.
# (Whether each alarm really fires on its metric is proven by the drills on LocalStack,
# tests/integration/test_drills.py; these runs pin the rules.)

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name                         = "pipeline"
  source_type                  = "kinesis"
  function_name                = "pipeline"
  function_timeout_seconds     = 30
  event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
  event_source_mapping_metrics = true
  service_name                 = "pipeline"
  stream_name                  = "pipeline"
  stream_retention_hours       = 24
  sink_table_name              = "pipeline-sink"
  on_failure_queue_name        = "pipeline-failures"
  email_addresses              = ["oncall@example.com", "team@example.com"]
}

run "every_alarm_of_a_kinesis_pipeline" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "lambda-errors", "records-failed", "lambda-throttles", "lambda-duration", "iterator-age", "record-age",
      "dropped-events", "failed-invoke-events", "on-failure-delivered", "destination-delivery-failures",
      "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded", "sink-write-throttles",
      "on-failure-queue", "failure-replay-window",
    ])
    error_message = "A Kinesis pipeline with a sink, a queue and mapping metrics gets exactly these alarms (silent stream is opt-in)."
  }
}

run "lag_thresholds_follow_the_effective_maximum_record_age" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["record-age"].threshold == 21600000
    error_message = "Records at risk at 50% of the default maximum record age (half of 24 h = 12 h): 6 h = 21,600,000 ms, well before Lambda gives them up."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["failure-replay-window"].threshold == 21600
    error_message = "The replay window is retention minus maximum record age (24 h - 12 h); the alarm fires at half of it: 21,600 s."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["iterator-age"].threshold == 30000 &&
      aws_cloudwatch_metric_alarm.this["iterator-age"].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.this["iterator-age"].datapoints_to_alarm == 2
    )
    error_message = "Iterator age above 30 s for 2 of 3 periods (seed 000)."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-duration"].threshold == 24000
    error_message = "Duration alarm: 80% of a 30 s timeout is 24,000 ms."
  }
}

run "a_shorter_maximum_record_age_moves_the_warning_earlier" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    maximum_record_age_seconds = 3600
    stream_retention_hours     = 168
    thresholds                 = { record_age_share = 0.25, replay_window_share = 0.5 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["record-age"].threshold == 900000
    error_message = "25% of a 1 h maximum record age is 900,000 ms: the alarm must follow the age at which records are given up, not the retention."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["failure-replay-window"].threshold == 300600
    error_message = "Half of (168 h - 1 h) = 300,600 s."
  }
}

run "a_stalled_consumer_keeps_the_lag_alarms_open" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = alltrue([
      for key in ["iterator-age", "record-age", "on-failure-queue", "failure-replay-window"] : aws_cloudwatch_metric_alarm.this[key].treat_missing_data == "ignore"
    ])
    error_message = "A stalled consumer publishes no IteratorAge and an idle queue no metrics: missing data must keep these alarms where they are, not close them."
  }
  assert {
    condition = alltrue([
      for key in ["lambda-errors", "records-failed", "lambda-throttles", "dropped-events", "destination-delivery-failures", "sink-write-throttles"] : aws_cloudwatch_metric_alarm.this[key].treat_missing_data == "notBreaching"
    ])
    error_message = "Counts published only when non-zero return to OK on silence."
  }
}

run "handled_failures_and_the_mapping_are_watched" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["records-failed"].namespace == "StreamPipeline" &&
      aws_cloudwatch_metric_alarm.this["records-failed"].metric_name == "RecordsFailed" &&
      aws_cloudwatch_metric_alarm.this["records-failed"].dimensions == tomap({ SourceType = "kinesis", service = "pipeline" })
    )
    error_message = "The handled-failure alarm watches the handler's RecordsFailed with its own dimensions (SourceType, service)."
  }
  assert {
    condition = alltrue([
      for key, metric in { "dropped-events" = "DroppedEventCount", "failed-invoke-events" = "FailedInvokeEventCount", "on-failure-delivered" = "OnFailureDestinationDeliveredEventCount" } :
      aws_cloudwatch_metric_alarm.this[key].metric_name == metric && aws_cloudwatch_metric_alarm.this[key].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.this[key].dimensions == tomap({ EventSourceMappingUUID = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11" })
    ])
    error_message = "The mapping's EventCount alarms are addressed by EventSourceMappingUUID."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["destination-delivery-failures"].metric_name == "DestinationDeliveryFailures" &&
      aws_cloudwatch_metric_alarm.this["destination-delivery-failures"].dimensions == tomap({ FunctionName = "pipeline" }) &&
      aws_cloudwatch_metric_alarm.this["destination-delivery-failures"].threshold == 0
    )
    error_message = "A failing on-failure destination (records dropped silently) alarms at any count."
  }
}

run "without_mapping_metrics_the_mapping_alarms_are_left_out" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    event_source_mapping_metrics = false
  }

  assert {
    condition     = length(setintersection(toset(keys(aws_cloudwatch_metric_alarm.this)), toset(["dropped-events", "failed-invoke-events", "on-failure-delivered"]))) == 0
    error_message = "Without metrics_config the mapping publishes no EventCount metrics: no alarm may wait on them."
  }
}

run "mapping_alarms_without_the_uuid_are_refused" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    event_source_mapping_uuid = null
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "duration_alarms_on_the_slow_tail" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-duration"].statistic == "Maximum" && aws_cloudwatch_metric_alarm.this["lambda-duration"].datapoints_to_alarm == 2
    error_message = "The duration alarm uses the Maximum (2 of 3 periods): the average hides the slow tail that times out."
  }
}

run "sink_throttle_alarm_fills_missing_periods_with_zero" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_name == null &&
      one([for q in aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_query : q.expression if q.return_data == true]) == "FILL(m, 0)" &&
      one(flatten([for q in aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_query : [for m in q.metric : m.metric_name] if q.id == "m"])) == "WriteThrottleEvents" &&
      one(flatten([for q in aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_query : [for m in q.metric : m.dimensions] if q.id == "m"])) == tomap({ TableName = "pipeline-sink" })
    )
    error_message = "DynamoDB publishes no zero WriteThrottleEvents: the alarm must be FILL(m, 0) over the sink's metric, so it returns to OK."
  }
}

run "enhanced_fan_out_watches_the_subscription" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    kinesis_consumer_name = "pipeline-consumer"
  }

  assert {
    condition = (
      !contains(keys(aws_cloudwatch_metric_alarm.this), "kinesis-read-throughput-exceeded") &&
      aws_cloudwatch_metric_alarm.this["kinesis-subscribe-rate-exceeded"].metric_name == "SubscribeToShard.RateExceeded" &&
      aws_cloudwatch_metric_alarm.this["kinesis-subscribe-rate-exceeded"].dimensions == tomap({ StreamName = "pipeline", ConsumerName = "pipeline-consumer" })
    )
    error_message = "With enhanced fan-out, ReadProvisionedThroughputExceeded does not describe our consumer: watch SubscribeToShard.RateExceeded per StreamName and ConsumerName."
  }
}

run "one_incident_pages_once" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.alarm_actions) == 0 && length(a.ok_actions) == 0 && length(a.insufficient_data_actions) == 0])
    error_message = "By default the member alarms notify nobody: the composites page."
  }
  assert {
    condition = alltrue([
      for c in aws_cloudwatch_composite_alarm.severity : c.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:pipeline-alarms"]) && c.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:pipeline-alarms"])
    ]) && toset(keys(aws_cloudwatch_composite_alarm.severity)) == toset(["critical", "warning"])
    error_message = "Two composites, records at risk (critical) and degraded (warning), page the topic on ALARM and OK."
  }
  assert {
    condition = (
      length(split(" OR ", aws_cloudwatch_composite_alarm.severity["critical"].alarm_rule)) + length(split(" OR ", aws_cloudwatch_composite_alarm.severity["warning"].alarm_rule)) == length(aws_cloudwatch_metric_alarm.this) &&
      strcontains(aws_cloudwatch_composite_alarm.severity["critical"].alarm_rule, "ALARM(\"pipeline-dropped-events\")") &&
      strcontains(aws_cloudwatch_composite_alarm.severity["warning"].alarm_rule, "ALARM(\"pipeline-lambda-errors\")")
    )
    error_message = "Every metric alarm is in exactly one composite, by severity."
  }
}

run "paging_each_alarm_notifies_and_the_composites_stay_silent" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    paging = "each"
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:pipeline-alarms"])])
    error_message = "With paging = each, every member alarm notifies the topic."
  }
  assert {
    condition     = alltrue([for c in aws_cloudwatch_composite_alarm.severity : length(c.alarm_actions) == 0])
    error_message = "With paging = each, the composites must not page a second time."
  }
}

run "an_existing_topic_is_reused" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall"
  }

  assert {
    condition = (
      length(aws_sns_topic.this) == 0 && length(aws_kms_key.this) == 0 && output.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall" &&
      alltrue([for c in aws_cloudwatch_composite_alarm.severity : c.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])]) &&
      alltrue([for s in aws_sns_topic_subscription.email : s.topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall"])
    )
    error_message = "With sns_topic_arn, no topic or key is created and everything notifies the given topic."
  }
}

run "topic_is_encrypted_and_only_cloudwatch_publishes" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && aws_sns_topic.this[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "Two email subscriptions, and the topic encrypted with the module's customer key."
  }
  assert {
    condition     = jsondecode(aws_sns_topic_policy.this[0].policy).Statement[0].Principal.Service == "cloudwatch.amazonaws.com" && jsondecode(aws_sns_topic_policy.this[0].policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Only CloudWatch of this account may publish to the topic."
  }
  assert {
    condition     = contains(jsondecode(aws_kms_key_policy.this[0].policy).Statement[1].Action, "kms:GenerateDataKey*") && jsondecode(aws_kms_key_policy.this[0].policy).Statement[1].Principal.Service == "cloudwatch.amazonaws.com"
    error_message = "CloudWatch must be able to use the topic key."
  }
}

run "silent_stream_is_opt_in_and_breaches_on_silence" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    silent_stream = true
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["stream-silent"].treat_missing_data == "breaching" &&
      aws_cloudwatch_metric_alarm.this["stream-silent"].metric_name == "IncomingRecords" &&
      aws_cloudwatch_metric_alarm.this["stream-silent"].comparison_operator == "LessThanThreshold"
    )
    error_message = "The silent-stream alarm treats missing data as a breach."
  }
}

run "silent_stream_look_back_is_at_most_a_day" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    silent_stream  = true
    period_seconds = 3600
    thresholds     = { silent_stream_periods = 25 }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "sub_minute_period_needs_the_local_emulator_switch" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    period_seconds = 10
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "sub_minute_period_with_the_local_emulator_switch" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    period_seconds = 10
    local_emulator = true
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : coalesce(a.period, 10) == 10])
    error_message = "With local_emulator, the alarms take the 10 s period."
  }
}

run "dynamodb_source_has_no_kinesis_alarms" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    source_type     = "dynamodb"
    sink_table_name = null
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "lambda-errors", "records-failed", "lambda-throttles", "lambda-duration", "iterator-age", "record-age",
      "dropped-events", "failed-invoke-events", "on-failure-delivered", "destination-delivery-failures",
      "on-failure-queue", "failure-replay-window",
    ])
    error_message = "DynamoDB source without a sink: no Kinesis and no sink alarms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["records-failed"].dimensions["SourceType"] == "dynamodb"
    error_message = "The handled-failure alarm watches SourceType=dynamodb for a DynamoDB source."
  }
}

run "alone_with_only_a_name_it_plans_no_alarm_without_dimensions" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    function_name                = null
    event_source_mapping_uuid    = null
    event_source_mapping_metrics = false
    service_name                 = null
    stream_name                  = null
    sink_table_name              = null
    on_failure_queue_name        = null
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_cloudwatch_composite_alarm.severity) == 0
    error_message = "With nothing to watch, no metric alarm (an Errors alarm without FunctionName watches every function) and no composite."
  }
}

run "budget_when_enabled" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    budget = { enabled = true }
  }

  assert {
    condition     = aws_budgets_budget.monthly[0].limit_amount == "5.00" && aws_budgets_budget.monthly[0].time_unit == "MONTHLY"
    error_message = "A $5 monthly budget when enabled (seed 000)."
  }
}

run "billing_alarm_refuses_other_regions" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    billing_alarm = { enabled = true }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.billing]
}

run "disabled_alarms_create_nothing" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    enabled = false
    budget  = { enabled = true }
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.this) + length(aws_cloudwatch_composite_alarm.severity) + length(aws_sns_topic.this) +
      length(aws_kms_key.this) + length(aws_sns_topic_subscription.email) + length(aws_budgets_budget.monthly) + length(aws_cloudwatch_metric_alarm.billing)
    ) == 0
    error_message = "Disabled alarms must plan no resources."
  }
}

run "period_is_configurable" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    period_seconds = 60
  }

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.this : a.period == 60 || alltrue([for q in a.metric_query : alltrue([for m in q.metric : m.period == 60])])
    ])
    error_message = "Every pipeline alarm follows period_seconds (metric-math alarms in their metric query)."
  }
}
