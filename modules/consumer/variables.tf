variable "enabled" {
  description = "Set to false to create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the function; the role, log group, on-failure queue and sink table are named after it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "The name must be 1 to 56 letters, digits, `_` or `-` (Lambda allows 64; the longest suffix added here is 8)."
  }
}

variable "pipeline_name" {
  description = "The pipeline this consumer belongs to (PIPELINE_NAME in the function's environment, where the operator tools find the stack's redrive ledger); null uses name."
  type        = string
  default     = null
}

variable "redrive_ledger_table_arn" {
  description = "The stack's redrive ledger table (the root's modules/operator): the function's role is explicitly denied every action on it, so no statement of yours can let the function forge the ledger."
  type        = string
  default     = null
}

variable "redrive_ledger_key_arn" {
  description = "The KMS HMAC key that signs the redrive ledger: the function's role is explicitly denied every action on it."
  type        = string
  default     = null
}

variable "kpl_aggregated_records" {
  description = "Whether the stream's producers put KPL aggregates: the parallelization factor must then be 1 (a plan with more is refused), since concurrent batches would apply one partition key's later user records first."
  type        = bool
  default     = false
  nullable    = false
}

variable "source_type" {
  description = "`kinesis` or `dynamodb`: which actions the role needs and which defaults apply."
  type        = string
  default     = "kinesis"
  nullable    = false

  validation {
    condition     = contains(["kinesis", "dynamodb"], var.source_type)
    error_message = "The source_type must be `kinesis` or `dynamodb`."
  }
}

variable "event_source_arn" {
  description = "What the event source mapping reads: a Kinesis stream, an enhanced fan-out consumer, or a DynamoDB stream ARN."
  type        = string
  default     = null

  validation {
    condition     = var.event_source_arn == null || can(regex("^arn:aws[a-z-]*:(kinesis|dynamodb):", var.event_source_arn))
    error_message = "The event_source_arn must be a Kinesis stream or consumer ARN, or a DynamoDB stream ARN."
  }
}

variable "enhanced_fan_out_consumer_name" {
  description = "The name of the enhanced fan-out consumer whose ARN event_source_arn is (the stream module's kinesis_consumer_names); null when the mapping reads the stream with shared throughput. A name, known at plan, unlike the consumer's ARN: switching between the two replaces the mapping, and the plan refuses a switch whose new mapping would start at LATEST (README, \"Switching between shared throughput and enhanced fan-out\")."
  type        = string
  default     = null
}

variable "input_names" {
  description = "How the caller names the settings a refusal of this module is about, so that the error names what the user wrote: the root passes `kinesis.enhanced_fan_out` and `event_source_mapping` for its default consumer, `consumers[\"archive\"].enhanced_fan_out` and `consumers[\"archive\"].event_source_mapping` for another. The defaults are this module's own inputs."
  type = object({
    enhanced_fan_out     = optional(string, "enhanced_fan_out_consumer_name")
    event_source_mapping = optional(string, "event_source_mapping")
  })
  default  = {}
  nullable = false
}

variable "stream_arn" {
  description = "The Kinesis stream or DynamoDB stream ARN that the role may read (the only stream it may read)."
  type        = string
  default     = null

  validation {
    condition     = var.stream_arn == null || can(regex("^arn:aws[a-z-]*:(kinesis|dynamodb):", var.stream_arn))
    error_message = "The stream_arn must be a Kinesis stream ARN or a DynamoDB stream ARN."
  }
}

variable "stream_kms_key_arn" {
  description = "The customer KMS key of the stream, if any: the role gets kms:Decrypt on it and on nothing else."
  type        = string
  default     = null
}

variable "shard_count" {
  description = "The Kinesis stream's shards (the stream module's shard_count: a provisioned stream's, or an existing stream's as given); with the parallelization factor it sets the least reserved concurrency that does not throttle the stream. Null for an on-demand stream (checked against the 4 shards it starts with) and for DynamoDB Streams (their shards are DynamoDB's)."
  type        = number
  default     = null
}

variable "stream_mode" {
  description = "`PROVISIONED` or `ON_DEMAND` for a Kinesis stream; an on-demand stream is checked against the 4 shards it starts with."
  type        = string
  default     = "PROVISIONED"
  nullable    = false

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "The stream_mode must be `PROVISIONED` or `ON_DEMAND`."
  }
}

variable "stream_retention_hours" {
  description = "Retention of the stream (24 for DynamoDB Streams). The default maximum record age is half of it."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "The stream_retention_hours must be from 24 to 8760."
  }
}

variable "function" {
  description = <<-EOT
    The Lambda function. Each attribute, its default and the reason for it are described at the root
    module's `function` input; this module holds the type and the default, and re-checks only what
    its own logic depends on or what AWS would accept against its promises (see the root README,
    "Where each input is declared"). architecture null: `arm64` for this module's own package (pure
    Python, about 20% cheaper per GB-second), `x86_64` for a package of yours, which may carry wheels
    built for it.
  EOT
  type = object({
    runtime                = optional(string, "python3.13")
    architecture           = optional(string)
    memory_mb              = optional(number, 128)
    timeout_seconds        = optional(number, 30)
    reserved_concurrency   = optional(number, -1)
    tracing                = optional(bool, false)
    package_path           = optional(string)
    s3_bucket              = optional(string)
    s3_key                 = optional(string)
    s3_object_version      = optional(string)
    handler                = optional(string, "stream_pipeline.handler.lambda_handler")
    record_processor       = optional(string)
    metrics_namespace      = optional(string, "StreamPipeline")
    log_level              = optional(string, "INFO")
    log_format             = optional(string, "Text")
    application_log_level  = optional(string)
    system_log_level       = optional(string)
    log_retention_days     = optional(number, 7)
    log_kms_key_arn        = optional(string)
    environment            = optional(map(string), {})
    layers                 = optional(list(string), [])
    vpc_subnet_ids         = optional(list(string), [])
    vpc_security_group_ids = optional(list(string), [])
    policy_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^python3\\.(1[2-9])$", var.function.runtime))
    error_message = "The function.runtime must be a Python Lambda runtime of 3.12 or later, such as `python3.13`: the handler is Python."
  }
  validation {
    condition     = var.function.reserved_concurrency == -1 || var.function.reserved_concurrency >= 1
    error_message = "The function.reserved_concurrency must be -1 (no reservation) or at least 1: a reservation of 0 stops the consumer, and the stream keeps its records only until its retention."
  }
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.function.log_level)
    error_message = "The function.log_level must be `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`: the handler refuses anything else at cold start."
  }
  validation {
    condition     = (var.function.s3_bucket == null) == (var.function.s3_key == null) && (var.function.s3_bucket == null || var.function.package_path == null) && (var.function.s3_object_version == null || var.function.s3_bucket != null)
    error_message = "The function package comes from one place: package_path (a local zip), or s3_bucket and s3_key together (with s3_object_version optionally), not both."
  }
  validation {
    condition = alltrue([for st in var.function.policy_statements : (
      can(regex("^[A-Za-z0-9]{1,100}$", st.sid)) && length(st.actions) > 0 && length(st.resources) > 0 &&
      alltrue([for a in st.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]) &&
      alltrue([for r in st.resources : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:[^*?]", r))])
    )])
    error_message = "Each function.policy_statements entry needs an alphanumeric sid, actions named in full, such as `dynamodb:PutItem`, and resource ARNs whose partition, service, region and account are written out, such as `arn:aws:dynamodb:eu-west-1:123456789012:table/orders` (no wildcard action, no `*` resource and no `arn:*` or `arn:aws:dynamodb:*:*:...`: the role stays least privilege)."
  }
  validation {
    condition     = var.function.record_processor == null ? true : can(regex("^(alleycat|alleycat-window|archive|audit|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$", var.function.record_processor))
    error_message = "The function.record_processor must be `alleycat`, `alleycat-window`, `archive`, `audit` or `package.module:function`: the handler refuses anything else at cold start."
  }
}

variable "event_source_mapping" {
  description = <<-EOT
    The event source mapping. Each attribute, its default and the reason for it are described at the
    root module's `event_source_mapping` input. Defaults make loss impossible: bisect on error, a
    finite number of retries, an on-failure destination always attached, ReportBatchItemFailures
    always on; this module re-checks the two that AWS would accept against that promise (retries and
    the maximum record age, whose -1 means forever).
  EOT
  type = object({
    enabled                         = optional(bool, true)
    batch_size                      = optional(number, 100)
    maximum_batching_window_seconds = optional(number, 1)
    parallelization_factor          = optional(number, 1)
    starting_position               = optional(string, "LATEST")
    starting_position_timestamp     = optional(string)
    bisect_batch_on_function_error  = optional(bool, true)
    maximum_retry_attempts          = optional(number, 3)
    maximum_record_age_seconds      = optional(number)
    filter_patterns                 = optional(list(string), [])
    metrics                         = optional(bool, true)
    tumbling_window_seconds         = optional(number, 0)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.event_source_mapping.maximum_retry_attempts >= 0 && var.event_source_mapping.maximum_retry_attempts <= 10000
    error_message = "The event_source_mapping.maximum_retry_attempts must be from 0 to 10000: a finite number, so that a poison batch reaches the on-failure destination."
  }
  validation {
    condition     = var.event_source_mapping.maximum_record_age_seconds == null ? true : var.event_source_mapping.maximum_record_age_seconds >= 60 && var.event_source_mapping.maximum_record_age_seconds <= 604800
    error_message = "The event_source_mapping.maximum_record_age_seconds must be from 60 to 604800, or null for half the stream retention (not -1, which would keep retrying until the records expire)."
  }
}

variable "sink" {
  description = <<-EOT
    The optional DynamoDB sink table (`pk`/`sk` strings, TTL on `expires_at`). Each attribute, its
    default and the reason for it are described at the root module's `sink` input.
  EOT
  type = object({
    create                 = optional(bool, true)
    billing_mode           = optional(string, "PAY_PER_REQUEST")
    read_capacity          = optional(number, 5)
    write_capacity         = optional(number, 5)
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool, true)
    deletion_protection    = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "on_failure_destination" {
  description = "Where Lambda sends a batch it gives up on: `sqs` (a queue message with the shard and sequence range) or `s3` (an object in a versioned, encrypted, private bucket with the records themselves). See the root module's input for when to choose which."
  type        = string
  default     = "sqs"
  nullable    = false

  validation {
    condition     = contains(["sqs", "s3"], var.on_failure_destination)
    error_message = "The on_failure_destination must be `sqs` (a queue message with the sequence range) or `s3` (an object with the records)."
  }
}

variable "on_failure_archive_days" {
  description = "With on_failure_destination `s3`: days an archived failure is kept before S3 expires it (90 by default: a quarter to investigate and redrive); a version an overwrite or a delete made noncurrent is kept as long."
  type        = number
  default     = 90
  nullable    = false
}

variable "on_failure_archive_force_destroy" {
  description = "With on_failure_destination `s3`: let `terraform destroy` (or a rename, which replaces the bucket) delete the failure archive with the failures in it. Off: the archived records are the only copy once the stream has dropped them, so losing them must be an explicit choice."
  type        = bool
  default     = false
  nullable    = false
}

variable "on_failure_queue_kms_key_arn" {
  description = "Customer KMS key for the on-failure queue; null uses SQS-managed encryption (SSE-SQS), which needs no key policy."
  type        = string
  default     = null
}

variable "on_failure_archive_kms_key_arn" {
  description = "Customer KMS key for the failure archive bucket (SSE-KMS, with an S3 Bucket Key); null uses the AWS-managed key `aws/s3`, which needs no key policy. The role gets kms:GenerateDataKey and kms:Decrypt on it through S3 only; its key policy must allow the role (and your operators, to read the archive)."
  type        = string
  default     = null
}

variable "role_permissions_boundary" {
  description = "A permissions boundary (an IAM policy ARN) for the function's role, as governed accounts require; null sets none."
  type        = string
  default     = null
}

variable "role_path" {
  description = "The IAM path of the function's role (such as `/stream-pipeline/`); null is IAM's default, `/`. Changing it replaces the role."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
