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
  description = "The consumer function."
  type        = string
  default     = null
}

variable "function_timeout_seconds" {
  description = "The consumer's timeout: a horizontal line on the Duration widget."
  type        = number
  default     = 30
  nullable    = false
}

variable "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name."
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
  description = "The sink table, or null."
  type        = string
  default     = null
}

variable "on_failure_queue_name" {
  description = "The on-failure queue."
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
  description = "The `service` dimension of the handler's metrics."
  type        = string
  default     = null
}

variable "alarm_arns" {
  description = "Alarms shown in the alarm-status widget."
  type        = list(string)
  default     = []
  nullable    = false
}
