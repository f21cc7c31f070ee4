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

variable "function_name" {
  description = "The consumer function. Null leaves out every alarm on it (an alarm without FunctionName would watch every function of the account)."
  type        = string
  default     = null
}

variable "event_source_mapping_uuid" {
  description = "The event source mapping's UUID (dimension EventSourceMappingUUID); null leaves out the mapping's alarms."
  type        = string
  default     = null
}

variable "event_source_mapping_metrics" {
  description = "Whether the mapping publishes its EventCount metrics (metrics_config; the consumer module's output): the dropped, failed-invoke and on-failure-delivered alarms need them and event_source_mapping_uuid. A plan-time switch, because the UUID is known only after apply."
  type        = bool
  default     = false
  nullable    = false
}

variable "maximum_record_age_seconds" {
  description = "The mapping's effective maximum record age (the consumer module's output): the age at which Lambda gives a record up to the failure path. Null assumes the consumer module's default, half the retention."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_record_age_seconds == null || try(var.maximum_record_age_seconds >= 60 && var.maximum_record_age_seconds <= 604800, false)
    error_message = "The maximum_record_age_seconds must be from 60 to 604800, or null."
  }
}

variable "handler_metrics" {
  description = "Alarm on this project's handler metrics (EMF: RecordsFailed). Turn off for a function that is not ours."
  type        = bool
  default     = true
  nullable    = false
}

variable "metrics_namespace" {
  description = "Namespace of the handler's EMF metrics (the consumer module's output follows METRICS_NAMESPACE)."
  type        = string
  default     = "StreamPipeline"
  nullable    = false
}

variable "service_name" {
  description = "The `service` dimension of the handler's EMF metrics (POWERTOOLS_SERVICE_NAME); null leaves out the handler alarms."
  type        = string
  default     = null
}

variable "function_timeout_seconds" {
  description = "The consumer's timeout; the duration alarm is a share of it."
  type        = number
  default     = 30
  nullable    = false
}

variable "stream_name" {
  description = "The Kinesis stream name (Kinesis alarms and the silent-stream alarm); null leaves them out."
  type        = string
  default     = null
}

variable "kinesis_consumer_name" {
  description = "The enhanced fan-out consumer's name, when the function reads through one: its throttling is watched on SubscribeToShard.RateExceeded instead of ReadProvisionedThroughputExceeded."
  type        = string
  default     = null
}

variable "stream_retention_hours" {
  description = "The stream's retention (24 for DynamoDB Streams): with the maximum record age it gives the window in which a failure can still be replayed."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "The stream_retention_hours must be from 24 to 8760."
  }
}

variable "sink_table_name" {
  description = "The sink table; null leaves out the sink alarm."
  type        = string
  default     = null
}

variable "on_failure_queue_name" {
  description = "The on-failure SQS queue; null leaves out the failure-path alarms."
  type        = string
  default     = null
}

variable "sns_topic_arn" {
  description = "An existing SNS topic to notify instead of creating one (its policy must let cloudwatch.amazonaws.com publish, and its key, if any, must allow CloudWatch)."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.sns_topic_arn))
    error_message = "The sns_topic_arn must be an SNS topic ARN, such as `arn:aws:sns:eu-west-1:123456789012:oncall`."
  }
}

variable "paging" {
  description = <<-EOT
    Who notifies the topic. `composite` (default): two composite alarms page, one for records at
    risk or lost (critical) and one for a degraded pipeline (warning), and the member alarms notify
    nobody, so one incident pages once. `each`: every member alarm notifies (the composites stay,
    silent, for the dashboard).
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
  description = "Email addresses subscribed to the alarm topic (each must confirm by email)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Each entry of email_addresses must be an email address, such as `oncall@example.com`."
  }
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
    - replay_window_share 0.5: the oldest failure in the queue has used half the time its records
      are sure to stay in the stream (retention minus maximum record age).
    - kinesis_throughput_exceeded 0: any throttled put, get or subscribe (seed 002).
    - sink_write_throttles 0: the sink throttled writes (the Alleycat table, seed 002).
    - on_failure_messages 0: anything in the on-failure queue needs a look and a replay.
    - silent_stream_periods 3: with silent_stream on, nothing arrived for 3 periods.
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
  })
  default  = {}
  nullable = false

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
