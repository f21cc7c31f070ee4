# modules/alarms on its own: the alarm math, actions, and the region guard of the billing alarm.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name                     = "pipeline"
  source_type              = "kinesis"
  function_name            = "pipeline"
  function_timeout_seconds = 30
  stream_name              = "pipeline"
  stream_retention_hours   = 24
  sink_table_name          = "pipeline-sink"
  on_failure_queue_name    = "pipeline-failures"
  email_addresses          = ["oncall@example.com", "team@example.com"]
}

run "thresholds_follow_timeout_and_retention" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-duration"].threshold == 24000
    error_message = "Duration alarm: 80% of a 30 s timeout is 24,000 ms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["iterator-age-retention"].threshold == 43200000
    error_message = "Data-loss guard: 50% of 24 h is 43,200,000 ms."
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
    condition = (
      aws_cloudwatch_metric_alarm.this["lambda-errors"].threshold == 0 && aws_cloudwatch_metric_alarm.this["lambda-errors"].period == 300 &&
      aws_cloudwatch_metric_alarm.this["lambda-errors"].evaluation_periods == 1 && aws_cloudwatch_metric_alarm.this["lambda-errors"].comparison_operator == "GreaterThanThreshold"
    )
    error_message = "Errors above 0 over 5 minutes, 1 of 1 (seed 000)."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:pipeline-alarms"]) && length(a.ok_actions) == 1 && length(a.insufficient_data_actions) == 0])
    error_message = "Every alarm notifies the topic on ALARM and OK, not on INSUFFICIENT_DATA."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.treat_missing_data == "notBreaching"])
    error_message = "Without the silent-stream alarm, missing data (an idle pipeline) is never a breach."
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
  assert {
    condition     = strcontains(aws_cloudwatch_composite_alarm.unhealthy[0].alarm_rule, "ALARM(\"pipeline-lambda-errors\")") && length(split(" OR ", aws_cloudwatch_composite_alarm.unhealthy[0].alarm_rule)) == 9
    error_message = "The composite alarm covers every metric alarm."
  }
}

run "thresholds_follow_a_longer_retention_and_timeout" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    function_timeout_seconds = 120
    stream_retention_hours   = 168
    thresholds               = { duration_share_of_timeout = 0.5, iterator_age_share_of_retention = 0.25 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda-duration"].threshold == 60000
    error_message = "Duration alarm: 50% of 120 s is 60,000 ms."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["iterator-age-retention"].threshold == 151200000
    error_message = "Data-loss guard: 25% of 168 h is 151,200,000 ms."
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
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["lambda-errors", "lambda-duration", "lambda-throttles", "iterator-age", "iterator-age-retention", "on-failure-queue"])
    error_message = "DynamoDB source without a sink: no Kinesis and no sink alarms."
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
      length(aws_cloudwatch_metric_alarm.this) + length(aws_cloudwatch_composite_alarm.unhealthy) + length(aws_sns_topic.this) +
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
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.period == 60])
    error_message = "Every pipeline alarm follows period_seconds."
  }
}
