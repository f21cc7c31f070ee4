variable "enabled" {
  description = "Set to false to create no resources at all (every child module follows it)."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the pipeline: the stream, function, queue, sink, topic, alarms and dashboard are named after it."
  type        = string
  default     = "stream-pipeline"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{3,56}$", var.name))
    error_message = "The name must be 3 to 56 letters, digits, `_` or `-` (the longest name derived from it must fit Lambda's 64)."
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

variable "consumers" {
  description = <<-EOT
    More consumers of the same stream, by key (a lower-case name of up to 20 letters, digits or `-`).
    The top-level function, event_source_mapping, sink and on_failure_destination describe the
    `default` consumer (named after the pipeline); each entry here is another one, with its own
    function `<name>-<key>`, mapping, failure path, sink, alarms (named after it) and dashboard row.
    An entry inherits the default consumer's function, event_source_mapping, sink and
    on_failure_destination, and overrides each setting it gives, e.g.
    `archive = { function = { record_processor = "archive" }, sink = { create = false } }`. The same
    validations apply (reported against `module.consumer["<key>"]`).
    - enhanced_fan_out: a dedicated-throughput consumer for this one (Kinesis only; the default
      consumer's is kinesis.enhanced_fan_out). Consumers without it share each shard's 5 reads/s
      and 2 MB/s: seed 002 measured 200 ms of latency per shared consumer, so up to 1 s for 5, and
      a plan with more than 5 shared consumers (2 readers of a DynamoDB stream) is refused.
  EOT
  type = map(object({
    enhanced_fan_out = optional(bool, false)
    function = optional(object({
      runtime              = optional(string)
      architecture         = optional(string)
      memory_mb            = optional(number)
      timeout_seconds      = optional(number)
      reserved_concurrency = optional(number)
      tracing              = optional(bool)
      package_path         = optional(string)
      s3_bucket            = optional(string)
      s3_key               = optional(string)
      s3_object_version    = optional(string)
      handler              = optional(string)
      record_processor     = optional(string)
      metrics_namespace    = optional(string)
      log_level            = optional(string)
      log_retention_days   = optional(number)
      log_kms_key_arn      = optional(string)
      environment          = optional(map(string))
      layers               = optional(list(string))
      policy_statements = optional(list(object({
        sid       = string
        actions   = list(string)
        resources = list(string)
      })))
    }), {})
    event_source_mapping = optional(object({
      enabled                         = optional(bool)
      batch_size                      = optional(number)
      maximum_batching_window_seconds = optional(number)
      parallelization_factor          = optional(number)
      starting_position               = optional(string)
      starting_position_timestamp     = optional(string)
      bisect_batch_on_function_error  = optional(bool)
      maximum_retry_attempts          = optional(number)
      maximum_record_age_seconds      = optional(number)
      filter_patterns                 = optional(list(string))
      metrics                         = optional(bool)
      tumbling_window_seconds         = optional(number)
    }), {})
    sink = optional(object({
      create                 = optional(bool)
      billing_mode           = optional(string)
      read_capacity          = optional(number)
      write_capacity         = optional(number)
      kms_key_arn            = optional(string)
      point_in_time_recovery = optional(bool)
      deletion_protection    = optional(bool)
    }), {})
    on_failure_destination = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for key in keys(var.consumers) : can(regex("^[a-z][a-z0-9-]{0,19}$", key)) && key != "default"])
    error_message = "Each consumers key must be a lower-case letter followed by up to 19 lower-case letters, digits or `-`, such as `archive`; `default` is the consumer the top-level function, event_source_mapping and sink describe."
  }
  validation {
    condition     = alltrue([for c in values(var.consumers) : contains(["sqs", "s3"], coalesce(c.on_failure_destination, "sqs"))])
    error_message = "Each consumers entry's on_failure_destination must be `sqs` (a queue message with the sequence range) or `s3` (an object with the records)."
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

variable "alarms" {
  description = <<-EOT
    Alarm settings; see modules/alarms for the reason behind every default threshold.
    - paging `composite` (default): one page per incident, and a new incident always pages. Alarms
      for records at risk, given up or near the end of their replay window page on their own;
      records lost page through `<fn>-lost`; degraded symptoms through `<fn>-failing` (which waits for
      the failure path, so a poison record pages once) and `<fn>-behind`. `each`: every alarm notifies.
    - runbook_url: where the alarm descriptions' runbook links point (null: this release's
      docs/RUNBOOK.md in the project's repository).
    - sns_topic_arn: notify an existing topic instead of creating one.
    - period_seconds 300; 10 or 30 only with local_emulator = true (LocalStack), because AWS
      publishes these metrics once a minute.
  EOT
  type = object({
    enabled                     = optional(bool, true)
    email_addresses             = optional(list(string), [])
    sns_topic_arn               = optional(string)
    paging                      = optional(string, "composite")
    period_seconds              = optional(number, 300)
    local_emulator              = optional(bool, false)
    notify_on_ok                = optional(bool, true)
    notify_on_insufficient_data = optional(bool, false)
    silent_stream               = optional(bool, false)
    runbook_url                 = optional(string)
    thresholds = optional(object({
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
    }), {})
    budget = optional(object({
      enabled   = optional(bool, false)
      limit_usd = optional(number, 5)
    }), {})
    billing_alarm = optional(object({
      enabled       = optional(bool, false)
      threshold_usd = optional(number, 1)
    }), {})
  })
  default  = {}
  nullable = false

  # Checked here too, so that the error points at the caller's module block.
  validation {
    condition     = var.alarms.period_seconds >= 60 ? var.alarms.period_seconds % 60 == 0 : (var.alarms.local_emulator && contains([10, 30], var.alarms.period_seconds))
    error_message = "The alarms.period_seconds must be a multiple of 60. AWS publishes these metrics once a minute, so 10 or 30 would leave the alarms in INSUFFICIENT_DATA; they are accepted only with alarms.local_emulator = true, for LocalStack."
  }
  validation {
    condition     = var.alarms.period_seconds * var.alarms.thresholds.silent_stream_periods <= 86400
    error_message = "The alarms.period_seconds x alarms.thresholds.silent_stream_periods must be at most 86400: CloudWatch evaluates an alarm over one day at most."
  }
  validation {
    condition     = contains(["composite", "each"], var.alarms.paging)
    error_message = "The alarms.paging must be `composite` (one page per incident) or `each` (every alarm notifies)."
  }
}

variable "dashboard" {
  description = "The CloudWatch dashboard: on by default, with a 60 s period so a race shows as it happens."
  type = object({
    enabled        = optional(bool, true)
    period_seconds = optional(number, 60)
  })
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
