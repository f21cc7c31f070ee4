variable "enabled" {
  description = "Set to false to create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Dashboard name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "The dashboard name must be 1 to 255 letters, digits, `_` or `-`."
  }
}

variable "source_type" {
  description = "`kinesis` or `dynamodb`: the stream widgets follow it."
  type        = string
  default     = "kinesis"
  nullable    = false

  validation {
    condition     = contains(["kinesis", "dynamodb"], var.source_type)
    error_message = "The source_type must be `kinesis` or `dynamodb`."
  }
}

variable "period_seconds" {
  description = "Metric period of every widget. 60 s shows a race as it happens; the capacity lines are converted to it."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([60, 300, 900, 3600], var.period_seconds)
    error_message = "The period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "function_name" {
  description = "The consumer function; null leaves out the Lambda widgets."
  type        = string
  default     = null
}

variable "event_source_mapping_uuid" {
  description = "The event source mapping's UUID; null leaves out the mapping's widget."
  type        = string
  default     = null
}

variable "event_source_mapping_metrics" {
  description = "Whether the mapping publishes its EventCount metrics (metrics_config); without them its widget would be empty."
  type        = bool
  default     = true
  nullable    = false
}

variable "kinesis_consumer_name" {
  description = "The enhanced fan-out consumer's name, when the function reads through one: the lag and throttling widgets then show SubscribeToShardEvent.MillisBehindLatest and SubscribeToShard.RateExceeded."
  type        = string
  default     = null
}

variable "source_billing_mode" {
  description = "The DynamoDB source table's billing mode: the provisioned-capacity lines are drawn only for `PROVISIONED`."
  type        = string
  default     = null
}

variable "sink_billing_mode" {
  description = "The sink table's billing mode: the provisioned-capacity lines are drawn only for `PROVISIONED`."
  type        = string
  default     = null
}

variable "handler_metrics" {
  description = "Show this project's handler metrics (EMF): records processed and failed, latency, sink throttles. Turn off for a function that is not ours."
  type        = bool
  default     = true
  nullable    = false
}

variable "function_timeout_seconds" {
  description = "The consumer's timeout: a horizontal line on the Duration widget."
  type        = number
  default     = 30
  nullable    = false
}

variable "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name; null leaves out the stream widgets."
  type        = string
  default     = null
}

variable "stream_label" {
  description = "The DynamoDB stream label (dimension of ReturnedRecordsCount); ignored for Kinesis."
  type        = string
  default     = null
}

variable "shard_count" {
  description = "Provisioned shards, for the capacity lines (1,000 records/s and 1 MiB/s per shard); null for on-demand."
  type        = number
  default     = null
}

variable "sink_table_name" {
  description = "The sink table; null leaves out the sink widgets."
  type        = string
  default     = null
}

variable "on_failure_queue_name" {
  description = "The on-failure SQS queue; null leaves out the queue widget."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "Namespace of the handler's EMF metrics."
  type        = string
  default     = "StreamPipeline"
  nullable    = false
}

variable "service_name" {
  description = "The `service` dimension of the handler's metrics (POWERTOOLS_SERVICE_NAME); null leaves out the handler widgets."
  type        = string
  default     = null
}

variable "alarm_arns" {
  description = "Alarms shown in the alarm-status widget."
  type        = list(string)
  default     = []
  nullable    = false
}
