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
    Kinesis Data Stream settings (used when source_type is `kinesis`).
    - stream_mode: `PROVISIONED` (default: predictable cost, and the shard count is the capacity
      line on the dashboard) or `ON_DEMAND`.
    - shard_count: shards in PROVISIONED mode. One shard takes 1,000 records/s or 1 MiB/s; the
      Alleycat race (1,000 racers x 1 msg/s) fills one shard, so its example uses 2.
    - retention_hours: 24 (the free default) to 8760. The iterator-age data-loss alarm follows it.
    - kms_key_arn: null uses the AWS-managed key `alias/aws/kinesis`; set a customer key to control it.
    - shard_level_metrics: opt-in enhanced metrics, e.g. ["IncomingRecords", "IteratorAgeMilliseconds"].
      Each costs like a custom metric per shard (about $0.30 per shard per metric per month).
    - enhanced_fan_out: register a dedicated-throughput consumer (push over HTTP/2, ~70 ms latency;
      billed per consumer-shard hour and per GB) for the Lambda, as seed 002 recommends when several
      consumers share a stream.
    - kpl_aggregation: producers put KPL aggregates (the blog's "combine messages before sending";
      the consumer deaggregates them either way). Then the parallelization factor must be 1: Lambda
      keeps order per partition key, an aggregate's key is one of its records', and concurrent
      batches would apply one key's later records first (a plan with more is refused).
  EOT
  type = object({
    stream_mode         = optional(string, "PROVISIONED")
    shard_count         = optional(number, 1)
    retention_hours     = optional(number, 24)
    kms_key_arn         = optional(string)
    shard_level_metrics = optional(list(string), [])
    enhanced_fan_out    = optional(bool, false)
    kpl_aggregation     = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.kinesis.stream_mode)
    error_message = "The kinesis.stream_mode must be `PROVISIONED` or `ON_DEMAND`."
  }
  validation {
    condition     = var.kinesis.shard_count >= 1 && var.kinesis.shard_count <= 4096 && floor(var.kinesis.shard_count) == var.kinesis.shard_count
    error_message = "The kinesis.shard_count must be a whole number from 1 to 4096."
  }
  validation {
    condition     = var.kinesis.retention_hours >= 24 && var.kinesis.retention_hours <= 8760 && floor(var.kinesis.retention_hours) == var.kinesis.retention_hours
    error_message = "The kinesis.retention_hours must be a whole number of hours from 24 to 8760 (365 days)."
  }
  validation {
    condition = alltrue([for m in var.kinesis.shard_level_metrics : contains([
      "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
      "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL"
    ], m)])
    error_message = "The kinesis.shard_level_metrics entries must be Kinesis shard-level metric names such as `IncomingRecords` or `IteratorAgeMilliseconds`, or `ALL`."
  }
  validation {
    condition     = var.kinesis.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kinesis.kms_key_arn))
    error_message = "The kinesis.kms_key_arn must be a KMS key ARN (arn:aws:kms:...), or null for the AWS-managed key."
  }
}

variable "dynamodb" {
  description = <<-EOT
    DynamoDB source settings (used when source_type is `dynamodb`).
    - existing_stream_arn: consume the stream of a table you already have; nothing is created.
    - Otherwise a source table is created with streams on: stream_view_type (NEW_AND_OLD_IMAGES by
      default, so the audit trail holds both sides of every change), hash_key/range_key, on-demand
      billing by default (no capacity to guess; PROVISIONED takes read_capacity/write_capacity),
      point-in-time recovery on, encryption with the AWS-managed key `aws/dynamodb` (KMS charges
      apply) unless kms_key_arn names a customer key.
  EOT
  type = object({
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
    condition     = contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], var.dynamodb.stream_view_type)
    error_message = "The dynamodb.stream_view_type must be `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES` or `KEYS_ONLY`."
  }
  validation {
    condition     = var.dynamodb.existing_stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.dynamodb.existing_stream_arn))
    error_message = "The dynamodb.existing_stream_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)."
  }
  validation {
    condition     = contains(["S", "N", "B"], var.dynamodb.hash_key_type) && contains(["S", "N", "B"], var.dynamodb.range_key_type)
    error_message = "The dynamodb key types must be `S`, `N` or `B`."
  }
  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.dynamodb.billing_mode)
    error_message = "The dynamodb.billing_mode must be `PAY_PER_REQUEST` or `PROVISIONED`."
  }
  validation {
    condition     = var.dynamodb.read_capacity >= 1 && var.dynamodb.write_capacity >= 1
    error_message = "The dynamodb read_capacity and write_capacity must be at least 1."
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
