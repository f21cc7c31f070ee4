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
  description = "The consumer function."
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
  description = "The Kinesis stream name (Kinesis alarms and the silent-stream alarm)."
  type        = string
  default     = null
}

variable "stream_retention_hours" {
  description = "The stream's retention; the data-loss guard is a share of it."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "The stream_retention_hours must be from 24 to 8760."
  }
}

variable "sink_table_name" {
  description = "The sink table, or null for no sink alarm."
  type        = string
  default     = null
}

variable "on_failure_queue_name" {
  description = "The on-failure queue."
  type        = string
  default     = null
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
  description = "Period of the pipeline alarms: 300 s (5 minutes, as in the workshop) is the cheapest resolution that still pages within minutes. 60 pages faster; 10 and 30 suit only high-resolution metrics (and local emulators)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = contains([10, 30], var.period_seconds) || (var.period_seconds >= 60 && var.period_seconds % 60 == 0)
    error_message = "The period_seconds must be 10, 30 or a multiple of 60."
  }
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
    - errors 0: any failed invocation means records are being retried or sent to the queue (seed 000).
    - duration_share_of_timeout 0.8: average duration above 80% of the timeout means batches are
      about to time out (seed 002 saw the 15 s timeout exceeded); it follows the timeout you set,
      unlike seed 000's fixed 10 s.
    - throttles 0: a throttled stream consumer falls behind at once.
    - iterator_age_ms 30000: the consumer is 30 s behind (seed 000), 2 of 3 periods.
    - iterator_age_share_of_retention 0.5: data-loss guard; at 100% of retention records expire
      unread (seed 002 recommends alarming well before; at 50% half the retention is left to react).
    - kinesis_throughput_exceeded 0: any throttled put or get (seed 002).
    - sink_write_throttles 0: the sink throttled writes (the Alleycat table, seed 002).
    - on_failure_messages 0: anything in the on-failure queue needs a look and a replay.
    - silent_stream_periods 3: with silent_stream on, no incoming record for 3 periods of 5 minutes.
  EOT
  type = object({
    errors                          = optional(number, 0)
    duration_share_of_timeout       = optional(number, 0.8)
    throttles                       = optional(number, 0)
    iterator_age_ms                 = optional(number, 30000)
    iterator_age_share_of_retention = optional(number, 0.5)
    kinesis_throughput_exceeded     = optional(number, 0)
    sink_write_throttles            = optional(number, 0)
    on_failure_messages             = optional(number, 0)
    silent_stream_periods           = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.thresholds.duration_share_of_timeout > 0 && var.thresholds.duration_share_of_timeout <= 1
    error_message = "The thresholds.duration_share_of_timeout must be above 0 and at most 1."
  }
  validation {
    condition     = var.thresholds.iterator_age_share_of_retention > 0 && var.thresholds.iterator_age_share_of_retention < 1
    error_message = "The thresholds.iterator_age_share_of_retention must be above 0 and below 1: at 1 the records are already gone."
  }
  validation {
    condition     = var.thresholds.silent_stream_periods >= 1 && var.thresholds.silent_stream_periods <= 288
    error_message = "The thresholds.silent_stream_periods must be from 1 to 288 (one day of 5-minute periods)."
  }
}

variable "silent_stream" {
  description = "Alarm when the stream receives nothing (Kinesis IncomingRecords, or Lambda invocations for DynamoDB). Off by default: many streams are quiet at night."
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
