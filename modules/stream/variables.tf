variable "enabled" {
  description = "Set to false to create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the Kinesis stream or the DynamoDB source table."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,128}$", var.name))
    error_message = "The name must be 3 to 128 characters of letters, digits, `_`, `.` and `-`."
  }
}

variable "source_type" {
  description = "Which stream feeds the consumer: `kinesis` or `dynamodb`."
  type        = string
  default     = "kinesis"
  nullable    = false

  validation {
    condition     = contains(["kinesis", "dynamodb"], var.source_type)
    error_message = "The source_type must be `kinesis` or `dynamodb`."
  }
}

variable "kinesis" {
  description = <<-EOT
    Kinesis Data Stream settings (used when source_type is `kinesis`). Each attribute, its default
    and the reason for it are described at the root module's `kinesis` input; this module holds the
    type and the default, and validates only what a caller who calls it alone could get wrong
    without AWS refusing it (see the root README, "Where each input is declared").
    - create_stream false with existing_stream_arn: consume a stream this module does not own
      (nothing of it is created or changed); then shard_count is required (its current shards).
    - watch_existing_stream: give an existing stream the stream-level alarms and widgets too.
  EOT
  type = object({
    create_stream         = optional(bool, true)
    existing_stream_arn   = optional(string)
    watch_existing_stream = optional(bool, false)
    stream_mode           = optional(string, "PROVISIONED")
    shard_count           = optional(number)
    retention_hours       = optional(number, 24)
    kms_key_arn           = optional(string)
    shard_level_metrics   = optional(list(string), [])
    enhanced_fan_out      = optional(bool, false)
    kpl_aggregation       = optional(bool, false)
  })
  default  = {}
  nullable = false

  # What this module's own logic needs, checked here too because a child can be called alone.
  validation {
    condition     = var.kinesis.create_stream == (var.kinesis.existing_stream_arn == null)
    error_message = "Set kinesis.create_stream = false together with kinesis.existing_stream_arn (consume a stream this module does not own), or neither (the module creates the stream)."
  }
  validation {
    condition     = var.kinesis.existing_stream_arn == null ? true : can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+$", var.kinesis.existing_stream_arn))
    error_message = "The kinesis.existing_stream_arn must be a Kinesis data stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)."
  }
  validation {
    condition     = var.kinesis.create_stream || var.kinesis.shard_count != null
    error_message = "With kinesis.existing_stream_arn, kinesis.shard_count is required: the stream's current number of shards, which sets the reserved concurrency it needs, its read budget and the dashboard's capacity lines."
  }
}

variable "dynamodb" {
  description = <<-EOT
    DynamoDB source settings (used when source_type is `dynamodb`). Each attribute, its default and
    the reason for it are described at the root module's `dynamodb` input.
    - create_table false with existing_stream_arn: consume the stream of a table you already have;
      nothing is created.
  EOT
  type = object({
    create_table           = optional(bool, true)
    existing_stream_arn    = optional(string)
    stream_view_type       = optional(string, "NEW_AND_OLD_IMAGES")
    hash_key               = optional(string, "id")
    hash_key_type          = optional(string, "S")
    range_key              = optional(string)
    range_key_type         = optional(string, "S")
    billing_mode           = optional(string, "PAY_PER_REQUEST")
    read_capacity          = optional(number, 5)
    write_capacity         = optional(number, 5)
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool, true)
    deletion_protection    = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.dynamodb.create_table == (var.dynamodb.existing_stream_arn == null)
    error_message = "Set dynamodb.create_table = false together with dynamodb.existing_stream_arn (consume the stream of a table you already have), or neither (the module creates the table)."
  }
  validation {
    condition     = var.dynamodb.existing_stream_arn == null ? true : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.dynamodb.existing_stream_arn))
    error_message = "The dynamodb.existing_stream_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)."
  }
}

variable "consumers" {
  description = <<-EOT
    The stream's consumers, by key (the root's consumers map): each with enhanced_fan_out gets a
    registered consumer of its own (dedicated 2 MiB/s per shard, pushed over HTTP/2). The others
    share each shard's read budget, 5 GetRecords calls and 2 MiB per second, and Lambda polls each
    shard once a second per mapping: more than 5 shared consumers cannot fit (a plan is refused).
    Empty (alone, or a single-consumer root): kinesis.enhanced_fan_out registers one for `default`.
  EOT
  type = map(object({
    enhanced_fan_out = optional(bool, false)
  }))
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
