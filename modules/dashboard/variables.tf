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

variable "consumers" {
  description = <<-EOT
    The stream's consumers, by key (`default` for a single-consumer stack): each gets a row of its
    own (function, lag, sink, handler metrics, mapping, failure path). From the consumer module's
    outputs: function_name, function_timeout_seconds (the duration line), event_source_mapping_uuid
    and event_source_mapping_metrics (the mapping's EventCount widget), kinesis_consumer_name (its
    enhanced fan-out consumer), sink_table_name and sink_billing_mode, on_failure_queue_name,
    metrics_namespace and service_name (the handler's EMF), handler_metrics (false for a function
    that is not ours).
  EOT
  type = map(object({
    function_name                = string
    function_timeout_seconds     = optional(number, 30)
    event_source_mapping_uuid    = optional(string)
    event_source_mapping_metrics = optional(bool, true)
    kinesis_consumer_name        = optional(string)
    sink_table_name              = optional(string)
    sink_billing_mode            = optional(string)
    on_failure_queue_name        = optional(string)
    metrics_namespace            = optional(string, "StreamPipeline")
    service_name                 = optional(string)
    handler_metrics              = optional(bool, true)
  }))
  default  = {}
  nullable = false
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

variable "source_billing_mode" {
  description = "The DynamoDB source table's billing mode (the stream module's output): the provisioned line is drawn only for PROVISIONED."
  type        = string
  default     = null
}

variable "alarm_arns" {
  description = "Alarms shown in the alarm-status widget."
  type        = list(string)
  default     = []
  nullable    = false
}
