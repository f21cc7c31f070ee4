# modules/alarms on its own: the alarm math, missing-data choices, the paging design, and what is
# left out. (Whether each alarm really fires on its metric, and pages, is proven by the drills on
# LocalStack, tests/integration/test_drills.py; these runs pin the rules.)

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name                   = "pipeline"
  source_type            = "kinesis"
  stream_name            = "pipeline"
  stream_retention_hours = 24
  email_addresses        = ["oncall@example.com", "team@example.com"]
  consumers = {
    default = {
      function_name                = "pipeline"
      function_timeout_seconds     = 30
      event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
      event_source_mapping_metrics = true
      service_name                 = "pipeline"
      sink_table_name              = "pipeline-sink"
      on_failure_queue_name        = "pipeline-failures"
    }
  }
}

run "every_alarm_of_a_kinesis_pipeline" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "lambda-errors", "records-failed", "lambda-throttles", "lambda-duration", "iterator-age", "record-age",
      "consumer-stopped", "dropped-events", "failed-invoke-events", "on-failure-delivered", "destination-delivery-failures",
      "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded", "sink-write-throttles",
      "on-failure-queue", "failure-replay-window",
    ])
    error_message = "A Kinesis pipeline with a sink, a queue and mapping metrics gets exactly these alarms (silent stream is opt-in)."
  }
  assert {
    condition     = alltrue([for key, a in aws_cloudwatch_metric_alarm.this : a.alarm_name == "pipeline-${key}"])
    error_message = "The default consumer's alarms keep their names (<name>-<alarm>), as in 0.2."
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

run "the_replay_window_watches_presence_not_the_age_receives_can_blind" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  # Retention 24 h, maximum record age 12 h: the window is 12 h, the alarm's share half of it (6 h),
  # covered by 6 periods of an hour in which the queue must hold a message every time.
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].metric_name == "ApproximateNumberOfMessagesVisible" &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].period == 3600 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].evaluation_periods == 6 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].datapoints_to_alarm == 6 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].threshold == 1
    )
    error_message = "The replay-window alarm fires when the queue held a message in each of 6 hourly periods (6 h = half the 12 h window), not on ApproximateAgeOfOldestMessage, which SQS stops reporting for a message received three times."
  }
}

run "a_short_replay_window_is_watched_in_periods_of_a_minute_at_least" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  # The LocalStack drills' Kinesis stack: 24 h retention, records given up at 86,160 s, so a 240 s
  # window whose half (120 s) is two periods of a minute, its shortest: redrive's 30 s in-flight hold
  # can never empty a whole period, even on LocalStack's 10 s alarm periods.
  variables {
    period_seconds = 10
    local_emulator = true
    consumers = {
      default = {
        function_name              = "pipeline"
        maximum_record_age_seconds = 86160
        on_failure_queue_name      = "pipeline-failures"
      }
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].evaluation_periods == 2 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].datapoints_to_alarm == 2
    )
    error_message = "Half a 240 s window is two periods of 60 s."
  }
}

run "a_shorter_maximum_record_age_moves_the_warnings_and_a_long_window_is_capped_at_seven_days" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    stream_retention_hours = 720
    thresholds             = { record_age_share = 0.25, replay_window_share = 0.5 }
    consumers = {
      default = {
        function_name                = "pipeline"
        event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
        event_source_mapping_metrics = true
        maximum_record_age_seconds   = 3600
        on_failure_queue_name        = "pipeline-failures"
      }
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["record-age"].threshold == 900000
    error_message = "25% of a 1 h maximum record age is 900,000 ms: the alarm must follow the age at which records are given up, not the retention."
  }
  assert {
    # Half of (720 h - 1 h) is 359.5 h, more than an alarm can look back: 7 days, in 6 periods of 28 h.
    condition = (
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].period * aws_cloudwatch_metric_alarm.this["failure-replay-window"].evaluation_periods <= 604800 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].period == 100800 &&
      aws_cloudwatch_metric_alarm.this["failure-replay-window"].evaluation_periods == 6
    )
    error_message = "A replay window longer than an alarm can look back (7 days) is watched for 7 days: the alarm fires earlier, never later."
  }
}

run "missing_data_keeps_ages_open_and_pages_a_silence_that_is_the_incident" {
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
      for key in ["lambda-errors", "records-failed", "lambda-throttles", "dropped-events", "destination-delivery-failures", "sink-write-throttles", "on-failure-delivered"] : aws_cloudwatch_metric_alarm.this[key].treat_missing_data == "notBreaching"
    ])
    error_message = "Counts published only when non-zero return to OK on silence."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].treat_missing_data == "missing" &&
      length(aws_cloudwatch_metric_alarm.this["consumer-stopped"].insufficient_data_actions) == 1 &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].metric_name == "PolledEventCount" &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].dimensions == tomap({ EventSourceMappingUUID = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11" }) &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].statistic == "SampleCount" &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.this["consumer-stopped"].evaluation_periods == 3
    )
    error_message = "A polling mapping publishes PolledEventCount (0 on an empty poll) every minute: no sample for 3 periods is a stopped consumer, which pages on the move to INSUFFICIENT_DATA (missing data as missing, so no page before the first poll)."
  }
}

run "a_mapping_disabled_on_purpose_or_without_metrics_has_no_stopped_alarm" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = {
      default = {
        function_name                = "pipeline"
        event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
        event_source_mapping_metrics = true
        event_source_mapping_enabled = false
      }
      nometrics = {
        function_name                = "pipeline-nometrics"
        event_source_mapping_metrics = false
      }
    }
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "consumer-stopped") && !contains(keys(aws_cloudwatch_metric_alarm.this), "nometrics/consumer-stopped")
    error_message = "A disabled mapping publishes nothing on purpose, and one without EventCount metrics nothing at all: no consumer-stopped alarm for either."
  }
  assert {
    condition     = !anytrue([for key in keys(aws_cloudwatch_metric_alarm.this) : startswith(key, "nometrics/") && contains(["dropped-events", "failed-invoke-events", "on-failure-delivered"], trimprefix(key, "nometrics/"))])
    error_message = "Without metrics_config the mapping publishes no EventCount metrics: no alarm may wait on them."
  }
}

run "mapping_alarms_without_the_uuid_are_refused" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = {
      default = {
        function_name                = "pipeline"
        event_source_mapping_metrics = true
      }
    }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "handled_failures_and_the_mapping_are_watched" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["records-failed"].namespace == "StreamPipeline" &&
      aws_cloudwatch_metric_alarm.this["records-failed"].dimensions == tomap({ SourceType = "kinesis", service = "pipeline" })
    )
    error_message = "The handled-failure alarm watches the handler's RecordsFailed with its own dimensions (SourceType, service)."
  }
  assert {
    condition = alltrue([
      for key in ["dropped-events", "failed-invoke-events", "on-failure-delivered"] : aws_cloudwatch_metric_alarm.this[key].dimensions == tomap({ EventSourceMappingUUID = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11" })
    ])
    error_message = "The mapping's EventCount alarms are addressed by EventSourceMappingUUID."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["destination-delivery-failures"].dimensions == tomap({ FunctionName = "pipeline" }) && aws_cloudwatch_metric_alarm.this["destination-delivery-failures"].threshold == 0
    error_message = "A failing on-failure destination (records dropped silently) alarms at any count."
  }
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
      one([for q in aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_query : q.expression if q.id == "e"]) == "FILL(m, 0)" &&
      one(flatten([for q in aws_cloudwatch_metric_alarm.this["sink-write-throttles"].metric_query : [for m in q.metric : m.dimensions] if q.id == "m"])) == tomap({ TableName = "pipeline-sink" })
    )
    error_message = "DynamoDB publishes no zero WriteThrottleEvents: the alarm must be FILL(m, 0) over the sink's metric, so it returns to OK."
  }
}

run "enhanced_fan_out_watches_the_consumers_lag_and_subscription" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = {
      default = {
        function_name         = "pipeline"
        kinesis_consumer_name = "pipeline-consumer"
      }
    }
  }

  assert {
    condition = (
      !contains(keys(aws_cloudwatch_metric_alarm.this), "kinesis-read-throughput-exceeded") &&
      aws_cloudwatch_metric_alarm.this["kinesis-subscribe-rate-exceeded"].dimensions == tomap({ StreamName = "pipeline", ConsumerName = "pipeline-consumer" }) &&
      aws_cloudwatch_metric_alarm.this["enhanced-fan-out-lag"].metric_name == "SubscribeToShardEvent.MillisBehindLatest" &&
      aws_cloudwatch_metric_alarm.this["enhanced-fan-out-lag"].dimensions == tomap({ StreamName = "pipeline", ConsumerName = "pipeline-consumer" })
    )
    error_message = "With enhanced fan-out (and no shared reader), ReadProvisionedThroughputExceeded does not describe the consumer: watch its MillisBehindLatest and SubscribeToShard.RateExceeded per StreamName and ConsumerName."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["kinesis-subscribe-rate-exceeded"].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.this["kinesis-subscribe-rate-exceeded"].datapoints_to_alarm == 3
    )
    error_message = "A takeover now and then (a call within 5 s of a successful subscription) is not an incident: 3 periods in a row."
  }
}

run "one_incident_pages_once_and_a_new_one_always_pages" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = alltrue([
      for key in ["record-age", "consumer-stopped", "on-failure-delivered", "failure-replay-window", "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded"] :
      length(aws_cloudwatch_metric_alarm.this[key].alarm_actions) == 1 && length(aws_cloudwatch_metric_alarm.this[key].ok_actions) == 1
    ])
    error_message = "Loss-class alarms (and the once-per-stream ones) page on their own: a standing alarm can never hide a new one."
  }
  assert {
    condition = alltrue([
      for key in ["lambda-errors", "records-failed", "failed-invoke-events", "lambda-throttles", "lambda-duration", "iterator-age", "sink-write-throttles", "dropped-events", "destination-delivery-failures", "on-failure-queue"] :
      length(aws_cloudwatch_metric_alarm.this[key].alarm_actions) == 0
    ])
    error_message = "Degraded symptoms and the lost pair page through their composites, and on-failure-queue is a status: none of them notifies on its own."
  }
  assert {
    condition = (
      toset(keys(aws_cloudwatch_composite_alarm.incident)) == toset(["failing", "behind", "lost"]) &&
      alltrue([for c in aws_cloudwatch_composite_alarm.incident : length(c.alarm_actions) == 1])
    )
    error_message = "Three incident composites per consumer page the topic: failing, behind, lost."
  }
  assert {
    condition = (
      output.alarm_paging["lambda-errors"] == "failing" && output.alarm_paging["records-failed"] == "failing" && output.alarm_paging["failed-invoke-events"] == "failing" &&
      output.alarm_paging["dropped-events"] == "lost" && output.alarm_paging["destination-delivery-failures"] == "lost" &&
      output.alarm_paging["iterator-age"] == "behind" && output.alarm_paging["lambda-duration"] == "behind" && output.alarm_paging["lambda-throttles"] == "behind" && output.alarm_paging["sink-write-throttles"] == "behind" &&
      output.alarm_paging["on-failure-queue"] == "status"
    )
    error_message = "Each alarm belongs to exactly one paging route."
  }
  assert {
    condition = (
      length(aws_cloudwatch_composite_alarm.incident["failing"].actions_suppressor) == 1 &&
      aws_cloudwatch_composite_alarm.incident["failing"].actions_suppressor[0].alarm == "pipeline-on-failure-delivered" &&
      aws_cloudwatch_composite_alarm.incident["failing"].actions_suppressor[0].wait_period == 600 &&
      aws_cloudwatch_composite_alarm.incident["failing"].actions_suppressor[0].extension_period == 300 &&
      length(aws_cloudwatch_composite_alarm.incident["behind"].actions_suppressor) == 0 &&
      length(aws_cloudwatch_composite_alarm.incident["lost"].actions_suppressor) == 0
    )
    error_message = "A poison record fails, then reaches the failure path: `failing` waits two periods for on-failure-delivered (which pages on its own) and stays quiet a period after it, so the incident pages once."
  }
  assert {
    condition = alltrue([
      for c in aws_cloudwatch_composite_alarm.incident : alltrue([for term in split(" OR ", c.alarm_rule) : startswith(term, "ALARM(\"arn:aws:cloudwatch:")])
    ])
    error_message = "Composite rules name their members by ARN (which LocalStack evaluates; names it does not)."
  }
}

run "without_mapping_metrics_the_queue_pages_and_suppresses" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = {
      default = {
        function_name         = "pipeline"
        service_name          = "pipeline"
        on_failure_queue_name = "pipeline-failures"
      }
    }
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.this["on-failure-queue"].alarm_actions) == 1 &&
      aws_cloudwatch_metric_alarm.this["on-failure-queue"].tags["Severity"] == "critical" &&
      aws_cloudwatch_composite_alarm.incident["failing"].actions_suppressor[0].alarm == "pipeline-on-failure-queue"
    )
    error_message = "Without OnFailureDestinationDeliveredEventCount, the queue's own alarm is the failure page, and the poison record's warning waits for it."
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
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.alarm_actions) == 1])
    error_message = "With paging = each, every metric alarm notifies the topic."
  }
  assert {
    condition     = alltrue([for c in aws_cloudwatch_composite_alarm.incident : length(c.alarm_actions) == 0])
    error_message = "With paging = each, the composites must not page a second time."
  }
}

run "several_consumers_are_watched_apart_and_the_stream_once" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    consumers = {
      default = {
        function_name                = "pipeline"
        event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
        event_source_mapping_metrics = true
        service_name                 = "pipeline"
        on_failure_queue_name        = "pipeline-failures"
      }
      archive = {
        function_name                = "pipeline-archive"
        event_source_mapping_uuid    = "0b0a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a22"
        event_source_mapping_metrics = true
        service_name                 = "pipeline-archive"
        kinesis_consumer_name        = "pipeline-archive"
        on_failure_queue_name        = "pipeline-archive-failures"
      }
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["archive/lambda-errors"].alarm_name == "pipeline-archive-lambda-errors" &&
      aws_cloudwatch_metric_alarm.this["archive/lambda-errors"].dimensions == tomap({ FunctionName = "pipeline-archive" }) &&
      aws_cloudwatch_metric_alarm.this["archive/consumer-stopped"].dimensions == tomap({ EventSourceMappingUUID = "0b0a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a22" }) &&
      aws_cloudwatch_metric_alarm.this["archive/enhanced-fan-out-lag"].dimensions == tomap({ StreamName = "pipeline", ConsumerName = "pipeline-archive" }) &&
      aws_cloudwatch_metric_alarm.this["lambda-errors"].dimensions == tomap({ FunctionName = "pipeline" })
    )
    error_message = "Each consumer has its own alarms, named after its function and watching its own dimensions."
  }
  assert {
    condition = (
      length([for key in keys(aws_cloudwatch_metric_alarm.this) : key if endswith(key, "kinesis-write-throughput-exceeded")]) == 1 &&
      length([for key in keys(aws_cloudwatch_metric_alarm.this) : key if endswith(key, "kinesis-read-throughput-exceeded")]) == 1
    )
    error_message = "The stream's alarms exist once, whatever the number of consumers (and the shared-read one while any consumer shares)."
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_composite_alarm.incident)) == toset(["failing", "behind", "lost", "archive/failing", "archive/behind", "archive/lost"])
    error_message = "Incident composites are per consumer: one consumer's standing incident never hides the other's."
  }
  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.this["archive/record-age"].alarm_description, "pipeline-archive")
    error_message = "Each alarm's text names its consumer."
  }
}

run "every_description_says_what_to_do_and_links_its_runbook_section" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition = alltrue([
      for key, a in aws_cloudwatch_metric_alarm.this : strcontains(a.alarm_description, "What to do: ") && endswith(a.alarm_description, "Runbook: https://github.com/terraform-aws-stream-pipeline/terraform-aws-stream-pipeline/blob/v0.3.0/docs/RUNBOOK.md#${key}") && length(a.alarm_description) <= 1024
    ])
    error_message = "Every alarm's description (the email's text) says what to do and ends with its versioned runbook link, within CloudWatch's 1,024 characters."
  }
}

run "the_runbook_link_follows_runbook_url" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    runbook_url = "https://git.example.com/platform/stream-pipeline/RUNBOOK.md"
  }

  assert {
    condition     = endswith(aws_cloudwatch_metric_alarm.this["record-age"].alarm_description, "Runbook: https://git.example.com/platform/stream-pipeline/RUNBOOK.md#record-age")
    error_message = "runbook_url points the links at your mirror."
  }
}

run "a_description_over_1024_characters_is_refused" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    runbook_url = "https://git.example.com/${join("/", [for i in range(120) : "segment"])}/RUNBOOK.md"
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "an_existing_topic_is_reused" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    create_sns_topic = false
    sns_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:oncall"
  }

  assert {
    condition = (
      length(aws_sns_topic.this) == 0 && length(aws_kms_key.this) == 0 && output.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall" &&
      alltrue([for c in aws_cloudwatch_composite_alarm.incident : c.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])]) &&
      aws_cloudwatch_metric_alarm.this["record-age"].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) &&
      alltrue([for s in aws_sns_topic_subscription.email : s.topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall"])
    )
    error_message = "With sns_topic_arn, no topic or key is created and everything notifies the given topic."
  }
}

run "only_this_pipelines_alarms_publish_and_only_over_tls" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && aws_sns_topic.this[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "Two email subscriptions, and the topic encrypted with the module's customer key."
  }
  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.this[0].policy).Statement[0].Principal.Service == "cloudwatch.amazonaws.com" &&
      jsondecode(aws_sns_topic_policy.this[0].policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012" &&
      jsondecode(aws_sns_topic_policy.this[0].policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipeline-*"
    )
    error_message = "Only this pipeline's alarms (their ARNs start with the pipeline's name), in this account and region, may publish to the topic."
  }
  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.this[0].policy).Statement[1].Effect == "Deny" &&
      jsondecode(aws_sns_topic_policy.this[0].policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false" &&
      contains(jsondecode(aws_sns_topic_policy.this[0].policy).Statement[1].Action, "sns:Publish")
    )
    error_message = "The topic refuses anything over plain HTTP."
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
    condition     = alltrue([for key, a in aws_cloudwatch_metric_alarm.this : coalesce(a.period, 10) == 10 if key != "failure-replay-window"])
    error_message = "With local_emulator, the alarms take the 10 s period."
  }
}

run "dynamodb_source_has_no_kinesis_alarms" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    source_type = "dynamodb"
    stream_name = "orders"
    consumers = {
      default = {
        function_name                = "pipeline"
        event_source_mapping_uuid    = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"
        event_source_mapping_metrics = true
        service_name                 = "pipeline"
        on_failure_queue_name        = "pipeline-failures"
      }
    }
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "lambda-errors", "records-failed", "lambda-throttles", "lambda-duration", "iterator-age", "record-age", "consumer-stopped",
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
    stream_name = null
    consumers   = {}
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_cloudwatch_composite_alarm.incident) == 0
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
      length(aws_cloudwatch_metric_alarm.this) + length(aws_cloudwatch_composite_alarm.incident) + length(aws_sns_topic.this) +
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
      for key, a in aws_cloudwatch_metric_alarm.this : a.period == 60 || alltrue([for q in a.metric_query : alltrue([for m in q.metric : m.period == 60])]) if key != "failure-replay-window"
    ])
    error_message = "Every pipeline alarm but the replay window (whose periods cover the window) follows period_seconds (metric-math alarms in their metric query)."
  }
}
