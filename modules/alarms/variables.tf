variable "enabled" {
  description = "Set to false to create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Prefix of the topic, key alias and alarm names."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "The name must be 1 to 200 letters, digits, `_` or `-`."
  }
}

variable "source_type" {
  description = "`kinesis` or `dynamodb`: the Kinesis throughput alarms exist only for Kinesis."
  type        = string
  default     = "kinesis"
  nullable    = false

  validation {
    condition     = contains(["kinesis", "dynamodb"], var.source_type)
    error_message = "The source_type must be `kinesis` or `dynamodb`."
  }
}

variable "consumers" {
  description = <<-EOT
    The consumers of the stream to watch, by key (`default` for a single-consumer stack; other keys
    prefix their alarm keys, `<key>/<alarm>`). Each alarm is named after its consumer's function. Per
    consumer, from the consumer module's outputs:
    - function_name: the function. Without consumers, no consumer alarm is planned (an alarm without
      FunctionName would watch every function of the account).
    - event_source_mapping_uuid and event_source_mapping_metrics: the mapping's EventCount metrics
      (metrics_config), which the failed-invoke, dropped, on-failure-delivered and consumer-stopped
      alarms need. A plan-time switch, because the UUID is known only after apply.
    - event_source_mapping_enabled: false for a mapping disabled on purpose (no consumer-stopped alarm).
    - maximum_record_age_seconds: the mapping's effective maximum record age; null assumes the consumer
      module's default, half the retention.
    - metrics_namespace, service_name, handler_metrics: this project's handler EMF metrics
      (RecordsFailed); handler_metrics = false for a function that is not ours.
    - kinesis_consumer_name: the enhanced fan-out consumer it reads through, if any.
    - sink_table_name, on_failure_queue_name: its sink and its on-failure queue, if any.
  EOT
  type = map(object({
    function_name                = string
    function_timeout_seconds     = optional(number, 30)
    event_source_mapping_uuid    = optional(string)
    event_source_mapping_metrics = optional(bool, false)
    event_source_mapping_enabled = optional(bool, true)
    maximum_record_age_seconds   = optional(number)
    metrics_namespace            = optional(string, "StreamPipeline")
    service_name                 = optional(string)
    handler_metrics              = optional(bool, true)
    kinesis_consumer_name        = optional(string)
    sink_table_name              = optional(string)
    on_failure_queue_name        = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.consumers) : can(regex("^[a-z][a-z0-9-]{0,19}$", key))])
    error_message = "Each consumers key must be 1 to 20 lower-case letters, digits or `-`, starting with a letter, such as `default` or `archive`."
  }
  validation {
    condition     = alltrue([for c in var.consumers : c.maximum_record_age_seconds == null || try(c.maximum_record_age_seconds >= 60 && c.maximum_record_age_seconds <= 604800, false)])
    error_message = "Each consumer's maximum_record_age_seconds must be from 60 to 604800, or null."
  }
}

variable "stream_name" {
  description = "The Kinesis stream name (the per-stream alarms: write and shared-read throttling, silence); null leaves them out."
  type        = string
  default     = null
}

variable "stream_retention_hours" {
  description = "The stream's retention (24 for DynamoDB Streams): with each consumer's maximum record age it gives the window in which a failure can still be replayed."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "The stream_retention_hours must be from 24 to 8760."
  }
}

variable "runbook_url" {
  description = "The runbook every alarm description links to (`<url>#<alarm>`); null uses docs/RUNBOOK.md of this module's release in the project's repository. Set it to your mirror's copy."
  type        = string
  default     = null
}

variable "create_sns_topic" {
  description = "Create the alarm topic (encrypted with a key of its own that CloudWatch may use). false: notify sns_topic_arn, a topic of yours. A boolean, not whether sns_topic_arn is null: the ARN of a topic declared beside this module is unknown until apply, and what to create must be known at plan."
  type        = bool
  default     = true
  nullable    = false
}

variable "sns_topic_arn" {
  description = "With create_sns_topic = false: the topic to notify (its policy must let cloudwatch.amazonaws.com publish, and its key, if any, must allow CloudWatch)."
  type        = string
  default     = null

  # Which topic the alarms notify is this module's own logic, so it is checked here too, for a caller
  # who calls the module alone (the root checks alarms.create_sns_topic and alarms.sns_topic_arn,
  # naming them; a malformed ARN is the root's to refuse, or CloudWatch's at apply).
  validation {
    condition     = var.create_sns_topic == (var.sns_topic_arn == null)
    error_message = "Set create_sns_topic = false together with sns_topic_arn (notify a topic of yours), or neither (the module creates the topic)."
  }
}

variable "paging" {
  description = <<-EOT
    Who notifies the topic. `composite` (default), one page per incident:
    - records at risk, given up or near the end of their replay window (record-age,
      consumer-stopped, on-failure-delivered, failure-replay-window) page on their own, so a new one
      always notifies, whatever else is standing; the per-stream alarms too;
    - records lost (dropped-events, destination-delivery-failures: one incident, since a failed
      delivery is also counted as dropped) page through one composite per consumer, `<fn>-lost`;
    - degraded symptoms page through one composite per consumer and class: `<fn>-failing` (errors,
      records failed, failed invocations; it waits two periods for the failure path, so a poison
      record pages once, as on-failure-delivered) and `<fn>-behind` (lag, duration, throttles, sink
      throttles);
    - on-failure-queue is a status (dashboard, doctor), not a page, while on-failure-delivered pages.
    `each`: every metric alarm notifies (the composites stay, silent).
  EOT
  type        = string
  default     = "composite"
  nullable    = false

  validation {
    condition     = contains(["composite", "each"], var.paging)
    error_message = "The paging must be `composite` or `each`."
  }
}

variable "email_addresses" {
  description = "Email addresses subscribed to the alarm topic (each must confirm by email). Checked at the root (alarms.email_addresses, naming the entry); called alone, SNS refuses a malformed address at apply."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "period_seconds" {
  description = "Period of the pipeline alarms: 300 s (5 minutes, as in the workshop) pages within minutes without flapping; 60 pages faster. 10 and 30 only with local_emulator: AWS publishes these metrics once a minute."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = contains([10, 30], var.period_seconds) || (var.period_seconds >= 60 && var.period_seconds % 60 == 0)
    error_message = "The period_seconds must be 10, 30 or a multiple of 60."
  }
}

variable "local_emulator" {
  description = "Set only when applying to a local emulator (LocalStack): allows a period_seconds of 10 or 30, which AWS's per-minute metrics would leave in INSUFFICIENT_DATA."
  type        = bool
  default     = false
  nullable    = false
}

variable "notify_on_ok" {
  description = "Also notify when an alarm returns to OK, so a page is visibly closed."
  type        = bool
  default     = true
  nullable    = false
}

variable "notify_on_insufficient_data" {
  description = "Also notify on INSUFFICIENT_DATA. Off: an idle pipeline has no data, which is not a fault (the silent-stream alarm covers silence)."
  type        = bool
  default     = false
  nullable    = false
}

variable "thresholds" {
  description = <<-EOT
    Alarm thresholds, each with the reason for its default:
    - errors 0: any failed invocation means a batch is being retried (seed 000).
    - records_failed 0: any record the handler reports failed is being retried; Lambda's Errors
      stays at 0 for these, so without this alarm nothing notices until the failure path.
    - failed_invoke_events 0: the mapping's own count of failed invocations.
    - duration_share_of_timeout 0.8: maximum duration above 80% of the timeout (2 of 3 periods)
      means batches are about to time out (seed 002 saw its timeout exceeded); the maximum, not
      the average, which hides the slow tail; it follows the timeout you set, unlike seed 000's
      fixed 10 s.
    - throttles 0: a throttled stream consumer falls behind at once.
    - iterator_age_ms 30000: the consumer is 30 s behind (seed 000), 2 of 3 periods.
    - record_age_share 0.5: records at risk when the consumer is half the maximum record age
      behind; at 100% Lambda gives them up to the failure path. The maximum record age is below
      the retention (the consumer module refuses otherwise), so this also warns before expiry.
    - replay_window_share 0.5: the queue has held failures for half the time their records
      are sure to stay in the stream (retention minus maximum record age).
    - kinesis_throughput_exceeded 0: any throttled put, get or subscribe (seed 002).
    - sink_write_throttles 0: the sink throttled writes (the Alleycat table, seed 002).
    - on_failure_messages 0: anything in the on-failure queue needs a look and a replay.
    - silent_stream_periods 3: with silent_stream on, nothing arrived for 3 periods.
    - stopped_periods 3: the mapping published no PolledEventCount for 3 periods (15 minutes at the
      default 300 s): Lambda publishes it every minute while it polls, 0 for an empty poll, so this
      is a stopped consumer, not a quiet stream; 3 periods ride out a mapping update.
    Dropped events and destination delivery failures alarm at any count: they are lost records.
  EOT
  type = object({
    errors                      = optional(number, 0)
    records_failed              = optional(number, 0)
    failed_invoke_events        = optional(number, 0)
    duration_share_of_timeout   = optional(number, 0.8)
    throttles                   = optional(number, 0)
    iterator_age_ms             = optional(number, 30000)
    record_age_share            = optional(number, 0.5)
    replay_window_share         = optional(number, 0.5)
    kinesis_throughput_exceeded = optional(number, 0)
    sink_write_throttles        = optional(number, 0)
    on_failure_messages         = optional(number, 0)
    silent_stream_periods       = optional(number, 3)
    stopped_periods             = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.thresholds.stopped_periods >= 1 && var.thresholds.stopped_periods <= 288 && floor(var.thresholds.stopped_periods) == var.thresholds.stopped_periods
    error_message = "The thresholds.stopped_periods must be a whole number from 1 to 288."
  }

  validation {
    condition     = var.thresholds.duration_share_of_timeout > 0 && var.thresholds.duration_share_of_timeout <= 1
    error_message = "The thresholds.duration_share_of_timeout must be above 0 and at most 1."
  }
  validation {
    condition     = var.thresholds.record_age_share > 0 && var.thresholds.record_age_share < 1
    error_message = "The thresholds.record_age_share must be above 0 and below 1: at 1 the records are already in the failure path."
  }
  validation {
    condition     = var.thresholds.replay_window_share > 0 && var.thresholds.replay_window_share < 1
    error_message = "The thresholds.replay_window_share must be above 0 and below 1: at 1 the records have expired from the stream."
  }
  validation {
    condition     = var.thresholds.silent_stream_periods >= 1 && var.thresholds.silent_stream_periods <= 288
    error_message = "The thresholds.silent_stream_periods must be from 1 to 288 (one day of 5-minute periods)."
  }
}

variable "silent_stream" {
  description = "Alarm when the stream receives nothing (Kinesis IncomingRecords, or Lambda invocations for DynamoDB). Off by default: many streams are quiet at night. The look-back (period x silent_stream_periods) must stay within one day."
  type        = bool
  default     = false
  nullable    = false
}

variable "budget" {
  description = "A monthly AWS cost budget with email alerts at 80% actual and 100% forecast ($5 when enabled, seed 000). Budgets are account-wide."
  type = object({
    enabled   = optional(bool, false)
    limit_usd = optional(number, 5)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.budget.limit_usd > 0
    error_message = "The budget.limit_usd must be above 0."
  }
}

variable "billing_alarm" {
  description = <<-EOT
    An EstimatedCharges alarm ($1, seed 000). AWS publishes that metric only in us-east-1, so this
    module refuses to create it in any other region rather than create an alarm that can never fire.
    To use it from another region, add a second instance of modules/alarms with
    `providers = { aws = aws.us_east_1 }` and billing_alarm enabled. Billing alerts must also be
    turned on once in the account's billing preferences.
  EOT
  type = object({
    enabled       = optional(bool, false)
    threshold_usd = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.billing_alarm.threshold_usd > 0
    error_message = "The billing_alarm.threshold_usd must be above 0."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
