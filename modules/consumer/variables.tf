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
  description = "Provisioned Kinesis shards (the stream module's output); with the parallelization factor it sets the least reserved concurrency that does not throttle the stream. Null for DynamoDB Streams (their shards are DynamoDB's)."
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
    The Lambda function.
    - runtime `python3.13` (what the package is built and tested for); architecture `x86_64` or `arm64`
      (the package is pure Python, so both work; arm64 is about 20% cheaper per GB-second).
    - memory_mb 128 (the workshop's measured sweet spot for this I/O-bound work) and timeout_seconds 30.
    - reserved_concurrency -1 (none): Lambda refuses a reservation that would leave less than 100
      unreserved, and new accounts start with a much smaller concurrency quota, so a default
      reservation would fail to apply there. Set it to keep a backlog from starving the account's
      other functions (and them from starving this one): at least shards x parallelization factor,
      or the stream throttles itself (a plan below it is refused; for an on-demand stream, against
      the 4 shards it starts with). `stream-pipeline doctor` says when an unreserved consumer can be
      starved, and `stream-pipeline plan --account-concurrency` when the quota allows a reservation.
    - package_path/handler: null uses this project's committed zip (modules/consumer/package) and
      handler, so no build step is needed. Set package_path to ship your own zip (for a processor
      of your own: `scripts/package.py --add`, see examples/custom-processor); `source_code_hash`
      follows the file. Or s3_bucket/s3_key (and s3_object_version) for a package published to S3.
    - policy_statements: extra statements for the function's role, for a processor of your own that
      reads or writes elsewhere: `{ sid, actions, resources }`, no wildcard actions. Ours stay least
      privilege.
    - record_processor: RECORD_PROCESSOR (`alleycat`, `alleycat-window` with tumbling windows,
      `archive` (every raw Kinesis record, one sink item each), `audit` or `module:function`); null picks
      `alleycat` for Kinesis and `audit` for DynamoDB.
    - environment: extra variables, merged over the ones this module sets.
    - log_retention_days 7: enough to investigate an incident, cheap to keep (the workshop's advice);
      log_kms_key_arn: a customer key for the log group (its policy must allow CloudWatch Logs).
  EOT
  type = object({
    runtime              = optional(string, "python3.13")
    architecture         = optional(string, "x86_64")
    memory_mb            = optional(number, 128)
    timeout_seconds      = optional(number, 30)
    reserved_concurrency = optional(number, -1)
    tracing              = optional(bool, false)
    package_path         = optional(string)
    s3_bucket            = optional(string)
    s3_key               = optional(string)
    s3_object_version    = optional(string)
    handler              = optional(string, "stream_pipeline.handler.lambda_handler")
    record_processor     = optional(string)
    metrics_namespace    = optional(string, "StreamPipeline")
    log_level            = optional(string, "INFO")
    log_retention_days   = optional(number, 7)
    log_kms_key_arn      = optional(string)
    environment          = optional(map(string), {})
    layers               = optional(list(string), [])
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
    error_message = "The function.runtime must be a Python Lambda runtime of 3.12 or later, such as `python3.13`."
  }
  validation {
    condition     = contains(["x86_64", "arm64"], var.function.architecture)
    error_message = "The function.architecture must be `x86_64` or `arm64`."
  }
  validation {
    condition     = var.function.memory_mb >= 128 && var.function.memory_mb <= 10240
    error_message = "The function.memory_mb must be from 128 to 10240."
  }
  validation {
    condition     = var.function.timeout_seconds >= 3 && var.function.timeout_seconds <= 900
    error_message = "The function.timeout_seconds must be from 3 to 900."
  }
  validation {
    condition     = var.function.reserved_concurrency == -1 || var.function.reserved_concurrency >= 1
    error_message = "The function.reserved_concurrency must be -1 (no reservation) or at least 1."
  }
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.function.log_retention_days)
    error_message = "The function.log_retention_days must be a CloudWatch Logs retention value, such as 1, 7, 14, 30, 90 or 365."
  }
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.function.log_level)
    error_message = "The function.log_level must be `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`."
  }
  validation {
    condition     = (var.function.s3_bucket == null) == (var.function.s3_key == null) && (var.function.s3_bucket == null || var.function.package_path == null) && (var.function.s3_object_version == null || var.function.s3_bucket != null)
    error_message = "The function package comes from one place: package_path (a local zip), or s3_bucket and s3_key together (with s3_object_version optionally), not both."
  }
  validation {
    condition = alltrue([for st in var.function.policy_statements : (
      can(regex("^[A-Za-z0-9]{1,100}$", st.sid)) && length(st.actions) > 0 && length(st.resources) > 0 &&
      alltrue([for a in st.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]) &&
      alltrue([for r in st.resources : r != "*" && can(regex("^arn:", r))])
    )])
    error_message = "Each function.policy_statements entry needs an alphanumeric sid, actions named in full, such as `dynamodb:PutItem`, and at least one resource ARN, such as `arn:aws:dynamodb:eu-west-1:123456789012:table/orders` (no wildcard actions and no `*` resource: the role stays least privilege)."
  }
  validation {
    condition     = var.function.record_processor == null || can(regex("^(alleycat|alleycat-window|archive|audit|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$", var.function.record_processor))
    error_message = "The function.record_processor must be `alleycat`, `alleycat-window`, `archive`, `audit` or `package.module:function`."
  }
}

variable "event_source_mapping" {
  description = <<-EOT
    The event source mapping. Defaults make loss impossible: bisect on error, a finite number of
    retries, an on-failure queue always attached, and ReportBatchItemFailures always on.
    - batch_size 100 and maximum_batching_window_seconds 1: Lambda's own default size, and at most
      one second of added latency. 1 to 10,000 for both sources.
    - parallelization_factor 1 to 10 concurrent batches per shard (seed 002: raise it when the
      iterator age grows); order is kept per partition key.
    - starting_position `LATEST`, `TRIM_HORIZON` or `AT_TIMESTAMP` (Kinesis only, with
      starting_position_timestamp in RFC 3339).
    - maximum_retry_attempts 3 (the record is tried 4 times), then the batch goes to the queue.
    - maximum_record_age_seconds: null means half the stream retention, capped at 7 days, so a
      record sent to the queue is still in the stream for the other half, to be replayed. It must
      be below the retention (a plan above it is refused: records would expire unseen).
    - filter_patterns: Lambda filter patterns (JSON strings), e.g.
      `{"eventName": ["INSERT", "MODIFY"]}`. Filtered-out records are dropped by Lambda on purpose.
    - metrics true: the mapping's EventCount metrics (polled, filtered, invoked, failed, dropped and
      on-failure-delivered counts), which the alarms need to see records dropped and a consumer that
      stopped polling. Billed as custom metrics (about $0.30 per metric per month); false turns them
      off, and with them those alarms.
    - tumbling_window_seconds 0 (off) to 900: Lambda's tumbling windows. The handler then folds each
      window's records into a state that Lambda carries between invocations, and writes the window's
      result on its final invocation (the `alleycat-window` processor: per racer and window).
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
    condition     = var.event_source_mapping.batch_size >= 1 && var.event_source_mapping.batch_size <= 10000
    error_message = "The event_source_mapping.batch_size must be from 1 to 10000 for Kinesis and DynamoDB Streams."
  }
  validation {
    condition     = var.event_source_mapping.maximum_batching_window_seconds >= 0 && var.event_source_mapping.maximum_batching_window_seconds <= 300
    error_message = "The event_source_mapping.maximum_batching_window_seconds must be from 0 to 300."
  }
  validation {
    condition     = contains([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], var.event_source_mapping.parallelization_factor)
    error_message = "The event_source_mapping.parallelization_factor must be a whole number from 1 to 10."
  }
  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], var.event_source_mapping.starting_position)
    error_message = "The event_source_mapping.starting_position must be `LATEST`, `TRIM_HORIZON` or `AT_TIMESTAMP`."
  }
  validation {
    condition     = (var.event_source_mapping.starting_position == "AT_TIMESTAMP") == (var.event_source_mapping.starting_position_timestamp != null)
    error_message = "The event_source_mapping.starting_position_timestamp must be set exactly when starting_position is `AT_TIMESTAMP`."
  }
  validation {
    condition     = var.event_source_mapping.starting_position_timestamp == null || can(timeadd(var.event_source_mapping.starting_position_timestamp, "0s"))
    error_message = "The event_source_mapping.starting_position_timestamp must be an RFC 3339 time, such as `2026-11-23T08:00:00Z`."
  }
  validation {
    condition     = var.event_source_mapping.maximum_retry_attempts >= 0 && var.event_source_mapping.maximum_retry_attempts <= 10000
    error_message = "The event_source_mapping.maximum_retry_attempts must be from 0 to 10000: a finite number, so that a poison batch reaches the on-failure queue."
  }
  validation {
    condition     = var.event_source_mapping.maximum_record_age_seconds == null || try(var.event_source_mapping.maximum_record_age_seconds >= 60 && var.event_source_mapping.maximum_record_age_seconds <= 604800, false)
    error_message = "The event_source_mapping.maximum_record_age_seconds must be from 60 to 604800, or null for half the stream retention."
  }
  validation {
    condition     = length(var.event_source_mapping.filter_patterns) <= 5 && alltrue([for p in var.event_source_mapping.filter_patterns : can(jsondecode(p))])
    error_message = "The event_source_mapping.filter_patterns must be at most 5 JSON documents, such as `{\"eventName\": [\"INSERT\", \"MODIFY\"]}`."
  }
  validation {
    condition     = var.event_source_mapping.tumbling_window_seconds >= 0 && var.event_source_mapping.tumbling_window_seconds <= 900 && floor(var.event_source_mapping.tumbling_window_seconds) == var.event_source_mapping.tumbling_window_seconds
    error_message = "The event_source_mapping.tumbling_window_seconds must be a whole number of seconds from 0 (no windows) to 900 (15 minutes, Lambda's maximum)."
  }
}

variable "sink" {
  description = <<-EOT
    The optional DynamoDB sink table (`pk`/`sk` strings, TTL on `expires_at`, point-in-time recovery,
    encrypted with the AWS-managed key `aws/dynamodb` (KMS charges apply) unless kms_key_arn names a
    customer key).
    On-demand by default: it absorbs the Alleycat race without the write throttling the blog post
    shows. PROVISIONED takes read_capacity/write_capacity (the post's table throttled at 5 WCU with
    1,000 racers; our one-write-per-racer-per-batch needs about racers / batching window WCU).
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

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.sink.billing_mode)
    error_message = "The sink.billing_mode must be `PAY_PER_REQUEST` or `PROVISIONED`."
  }
  validation {
    condition     = var.sink.read_capacity >= 1 && var.sink.write_capacity >= 1
    error_message = "The sink read_capacity and write_capacity must be at least 1."
  }
}

variable "on_failure_destination" {
  description = <<-EOT
    Where Lambda sends a batch it gives up on. `sqs` (default): a queue message naming the shard and
    sequence-number range; the records are replayed from the stream, within its retention (the
    failure-path alarms watch the queue's depth and age). `s3`: an object in an encrypted, private
    bucket holding the invocation record *with the records themselves*, so they can be redriven
    after the stream has dropped them; the right choice for DynamoDB Streams, which keep records
    only 24 hours.
  EOT
  type        = string
  default     = "sqs"
  nullable    = false

  validation {
    condition     = contains(["sqs", "s3"], var.on_failure_destination)
    error_message = "The on_failure_destination must be `sqs` (a queue message with the sequence range) or `s3` (an object with the records)."
  }
}

variable "on_failure_archive_days" {
  description = "With on_failure_destination `s3`: days an archived failure is kept before S3 expires it (90 by default: a quarter to investigate and redrive)."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.on_failure_archive_days >= 1 && floor(var.on_failure_archive_days) == var.on_failure_archive_days
    error_message = "The on_failure_archive_days must be a whole number of days, at least 1."
  }
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

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
