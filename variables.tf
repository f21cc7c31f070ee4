# Where each input is declared (README, "Where each input is declared"): a setting's type and
# default live in the child module that uses it; the root declares the same attributes, each
# optional with no default (null: the child's default, or in a consumers entry: inherit), and checks
# what the user writes here, once per check, naming it as written. Terraform needs each check list
# twice (the condition and the message); tests/unit/test_terraform_interface.py keeps the two equal.

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
    - shard_count: shards in PROVISIONED mode (1 by default). One shard takes 1,000 records/s or
      1 MiB/s; the Alleycat race (1,000 racers x 1 msg/s) fills one shard, so its example uses 2.
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
    A stream this module does not own (another stack's, another repository's, another account's):
    - create_stream = false with existing_stream_arn: nothing of the stream is created or changed.
      A boolean, not whether the ARN is null: an ARN of a stream declared beside the module is
      unknown until apply, and what to create must be known at plan.
    - shard_count is then required: the stream's current shards, for the reserved concurrency it
      needs, its read budget and the dashboard's capacity lines. retention_hours should be the
      stream's (the maximum record age is half of it); kms_key_arn its customer key, if any (the
      roles get kms:Decrypt on it). shard_level_metrics are the owner's, and refused here.
    - enhanced_fan_out consumers register on it (in the stream's own account only: Kinesis
      registers consumers for the stream's owner).
    - watch_existing_stream (false): the stream-level alarms (throttled writes and reads, silence)
      and dashboard widgets are its owner's; true gives them to this stack too (same account: a
      stream publishes its metrics in its own account).
    - Another account's stream: its owner applies the `kinesis_resource_policy_json` output with
      aws_kinesis_resource_policy (and lets the roles use its key).
  EOT
  type = object({
    create_stream         = optional(bool)
    existing_stream_arn   = optional(string)
    watch_existing_stream = optional(bool)
    stream_mode           = optional(string)
    shard_count           = optional(number)
    retention_hours       = optional(number)
    kms_key_arn           = optional(string)
    shard_level_metrics   = optional(list(string))
    enhanced_fan_out      = optional(bool)
    kpl_aggregation       = optional(bool)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.kinesis.stream_mode == null ? true : contains(["PROVISIONED", "ON_DEMAND"], var.kinesis.stream_mode)
    error_message = "The kinesis.stream_mode must be `PROVISIONED` or `ON_DEMAND`."
  }
  validation {
    condition     = var.kinesis.shard_count == null || try(var.kinesis.shard_count >= 1 && var.kinesis.shard_count <= 4096 && floor(var.kinesis.shard_count) == var.kinesis.shard_count, false)
    error_message = "The kinesis.shard_count must be a whole number from 1 to 4096."
  }
  validation {
    condition     = var.kinesis.retention_hours == null || try(var.kinesis.retention_hours >= 24 && var.kinesis.retention_hours <= 8760 && floor(var.kinesis.retention_hours) == var.kinesis.retention_hours, false)
    error_message = "The kinesis.retention_hours must be a whole number of hours from 24 to 8760 (365 days)."
  }
  validation {
    condition = alltrue([for m in coalesce(var.kinesis.shard_level_metrics, []) : contains([
      "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
      "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL"
    ], m)])
    error_message = "The kinesis.shard_level_metrics entries must be Kinesis shard-level metric names such as `IncomingRecords` or `IteratorAgeMilliseconds`, or `ALL`."
  }
  validation {
    condition     = var.kinesis.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kinesis.kms_key_arn))
    error_message = "The kinesis.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or null for the AWS-managed key: the roles are granted kms:Decrypt on that ARN, and an alias would grant nothing."
  }
  validation {
    condition     = (var.kinesis.create_stream == false) == (var.kinesis.existing_stream_arn != null)
    error_message = "Set kinesis.create_stream = false together with kinesis.existing_stream_arn (consume a stream this module does not own), or neither (the module creates the stream)."
  }
  validation {
    condition     = var.kinesis.existing_stream_arn == null || can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+$", var.kinesis.existing_stream_arn))
    error_message = "The kinesis.existing_stream_arn must be a Kinesis data stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)."
  }
  validation {
    condition     = var.kinesis.create_stream != false || var.kinesis.shard_count != null
    error_message = "With kinesis.existing_stream_arn, kinesis.shard_count is required: the stream's current number of shards, which sets the reserved concurrency it needs, its read budget and the dashboard's capacity lines."
  }
  validation {
    condition     = var.kinesis.create_stream != false || length(coalesce(var.kinesis.shard_level_metrics, [])) == 0
    error_message = "The kinesis.shard_level_metrics configure a stream this module creates; an existing stream's are its owner's, so leave them out with kinesis.existing_stream_arn."
  }
}


variable "dynamodb" {
  description = <<-EOT
    DynamoDB source settings (used when source_type is `dynamodb`).
    - create_table = false with existing_stream_arn: consume the stream of a table you already have
      (declared beside the module or elsewhere); nothing is created. A boolean, not whether the ARN
      is null: an ARN of a table declared beside the module is unknown until apply, and what to
      create must be known at plan.
    - Otherwise a source table is created with streams on: stream_view_type (NEW_AND_OLD_IMAGES by
      default, so the audit trail holds both sides of every change), hash_key/range_key (`id`, `S`),
      on-demand billing by default (no capacity to guess; PROVISIONED takes read_capacity and
      write_capacity, 5 each), point-in-time recovery on, encryption with the AWS-managed key
      `aws/dynamodb` (KMS charges apply) unless kms_key_arn names a customer key.
  EOT
  type = object({
    create_table           = optional(bool)
    existing_stream_arn    = optional(string)
    stream_view_type       = optional(string)
    hash_key               = optional(string)
    hash_key_type          = optional(string)
    range_key              = optional(string)
    range_key_type         = optional(string)
    billing_mode           = optional(string)
    read_capacity          = optional(number)
    write_capacity         = optional(number)
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
    deletion_protection    = optional(bool)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.dynamodb.stream_view_type == null ? true : contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], var.dynamodb.stream_view_type)
    error_message = "The dynamodb.stream_view_type must be `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES` or `KEYS_ONLY`."
  }
  validation {
    condition     = (var.dynamodb.create_table == false) == (var.dynamodb.existing_stream_arn != null)
    error_message = "Set dynamodb.create_table = false together with dynamodb.existing_stream_arn (consume the stream of a table you already have), or neither (the module creates the table)."
  }
  validation {
    condition     = var.dynamodb.existing_stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.dynamodb.existing_stream_arn))
    error_message = "The dynamodb.existing_stream_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)."
  }
  validation {
    condition     = alltrue([for t in [var.dynamodb.hash_key_type, var.dynamodb.range_key_type] : t == null ? true : contains(["S", "N", "B"], t)])
    error_message = "The dynamodb.hash_key_type and range_key_type must be `S`, `N` or `B`."
  }
  validation {
    condition     = var.dynamodb.billing_mode == null ? true : contains(["PAY_PER_REQUEST", "PROVISIONED"], var.dynamodb.billing_mode)
    error_message = "The dynamodb.billing_mode must be `PAY_PER_REQUEST` or `PROVISIONED`."
  }
  validation {
    condition     = alltrue([for c in [var.dynamodb.read_capacity, var.dynamodb.write_capacity] : c == null || try(c >= 1 && floor(c) == c, false)])
    error_message = "The dynamodb.read_capacity and write_capacity must be whole numbers of units, at least 1."
  }
  validation {
    condition     = var.dynamodb.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.dynamodb.kms_key_arn))
    error_message = "The dynamodb.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or null for the AWS-managed key: the roles are granted kms:Decrypt on that ARN, and an alias would grant nothing."
  }
}

variable "function" {
  description = <<-EOT
    The Lambda function (of the `default` consumer; each consumers entry inherits it).
    - runtime `python3.13` (what the package is built and tested for).
    - architecture: null is `arm64` for this module's own package (pure Python, no compiled code, and
      Graviton costs about 20% less per GB-second) and `x86_64` for a package of yours, which may
      carry wheels built for it (scripts/package.py builds for x86_64 unless told `--arch arm64`).
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
      reads or writes elsewhere: `{ sid, actions, resources }`, every action named in full and every
      resource ARN with its partition, service, region and account written out. Ours stay least
      privilege.
    - record_processor: RECORD_PROCESSOR (`alleycat`, `alleycat-window` with tumbling windows,
      `archive` (every raw Kinesis record, one sink item each), `audit` or `module:function`); null picks
      `alleycat` for Kinesis and `audit` for DynamoDB.
    - environment: extra variables, merged over the ones this module sets.
    - log_level `INFO`: the handler's LOG_LEVEL. log_format `Text` or `JSON` (Lambda's advanced
      logging controls; the handler's structured lines stay one line each either way); with JSON,
      application_log_level (null: follows log_level) and system_log_level (null: Lambda's `INFO`).
    - log_retention_days 7: enough to investigate an incident, cheap to keep (the workshop's advice);
      log_kms_key_arn: a customer key for the log group (its policy must allow CloudWatch Logs).
    - vpc_subnet_ids and vpc_security_group_ids: run the function in your VPC (both, or neither).
      Its role gets the network interface permissions Lambda needs, on those subnets and groups
      only; the function then reaches its sink and AWS's APIs through your VPC (a DynamoDB gateway
      endpoint, or NAT).
    Names other modules use (vpc_config, logging_config, permissions_boundary, role_path,
    architectures, ...) are refused here with the input to use, rather than dropped without a word.
  EOT
  type = object({
    runtime                = optional(string)
    architecture           = optional(string)
    memory_mb              = optional(number)
    timeout_seconds        = optional(number)
    reserved_concurrency   = optional(number)
    tracing                = optional(bool)
    package_path           = optional(string)
    s3_bucket              = optional(string)
    s3_key                 = optional(string)
    s3_object_version      = optional(string)
    handler                = optional(string)
    record_processor       = optional(string)
    metrics_namespace      = optional(string)
    log_level              = optional(string)
    log_format             = optional(string)
    application_log_level  = optional(string)
    system_log_level       = optional(string)
    log_retention_days     = optional(number)
    log_kms_key_arn        = optional(string)
    environment            = optional(map(string))
    layers                 = optional(list(string))
    vpc_subnet_ids         = optional(list(string))
    vpc_security_group_ids = optional(list(string))
    policy_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })))
    # Not inputs: names other modules give these settings, refused with the input to use.
    vpc_config                = optional(any)
    logging_config            = optional(any)
    permissions_boundary      = optional(any)
    role_permissions_boundary = optional(any)
    role_path                 = optional(any)
    architectures             = optional(any)
  })
  default  = {}
  nullable = false

  # Every check of a function setting, once, over the top-level function (the default consumer) and each
  # consumers entry: f is what was written there (null: not written, inherited), e the
  # consumer's effective settings, for the checks across settings (an entry is named only when
  # it writes one of them itself; otherwise the top-level sentence says it).
  validation {
    condition = length(flatten([for p in concat(
      [{ at = "function", f = var.function, e = var.function }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].function", f = c.function, e = merge(var.function, { for a, x in c.function : a => x if x != null }) }],
      ) : [for problem in [
        p.f.runtime == null || try(can(regex("^python3\\.(1[2-9])$", p.f.runtime)), false) ? "" : "The ${p.at}.runtime is ${jsonencode(p.f.runtime)}: the handler is Python, so it must be a Python Lambda runtime of 3.12 or later, such as `python3.13`.",
        p.f.architecture == null || try(contains(["arm64", "x86_64"], p.f.architecture), false) ? "" : "The ${p.at}.architecture is ${jsonencode(p.f.architecture)}: it must be `arm64` or `x86_64`.",
        p.f.memory_mb == null || try(p.f.memory_mb >= 128 && p.f.memory_mb <= 10240 && floor(p.f.memory_mb) == p.f.memory_mb, false) ? "" : "The ${p.at}.memory_mb is ${jsonencode(p.f.memory_mb)}: Lambda takes a whole number of MB from 128 to 10240.",
        p.f.timeout_seconds == null || try(p.f.timeout_seconds >= 3 && p.f.timeout_seconds <= 900 && floor(p.f.timeout_seconds) == p.f.timeout_seconds, false) ? "" : "The ${p.at}.timeout_seconds is ${jsonencode(p.f.timeout_seconds)}: Lambda takes a whole number of seconds from 3 to 900.",
        p.f.reserved_concurrency == null || try((p.f.reserved_concurrency == -1 || p.f.reserved_concurrency >= 1) && floor(p.f.reserved_concurrency) == p.f.reserved_concurrency, false) ? "" : "The ${p.at}.reserved_concurrency is ${jsonencode(p.f.reserved_concurrency)}: it must be -1 (no reservation) or at least 1, since a reservation of 0 stops the consumer and the stream keeps its records only until its retention.",
        p.f.log_retention_days == null || try(contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], p.f.log_retention_days), false) ? "" : "The ${p.at}.log_retention_days is ${jsonencode(p.f.log_retention_days)}: it must be a CloudWatch Logs retention value, such as 1, 7, 14, 30, 90 or 365.",
        p.f.log_level == null || try(contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], p.f.log_level), false) ? "" : "The ${p.at}.log_level is ${jsonencode(p.f.log_level)}: the handler takes `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.",
        p.f.log_format == null || try(contains(["Text", "JSON"], p.f.log_format), false) ? "" : "The ${p.at}.log_format is ${jsonencode(p.f.log_format)}: Lambda writes logs as `Text` or `JSON`.",
        p.f.application_log_level == null || try(contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], p.f.application_log_level), false) ? "" : "The ${p.at}.application_log_level is ${jsonencode(p.f.application_log_level)}: Lambda takes `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`.",
        p.f.system_log_level == null || try(contains(["DEBUG", "INFO", "WARN"], p.f.system_log_level), false) ? "" : "The ${p.at}.system_log_level is ${jsonencode(p.f.system_log_level)}: Lambda takes `DEBUG`, `INFO` or `WARN`.",
        alltrue([for a in ["log_format", "application_log_level", "system_log_level"] : p.f[a] == null]) || p.e.log_format == "JSON" || (p.e.application_log_level == null && p.e.system_log_level == null) ? "" : "In ${p.at}, application_log_level and system_log_level filter JSON logs only: set log_format = \"JSON\" with them.",
        alltrue([for a in ["package_path", "s3_bucket", "s3_key", "s3_object_version"] : p.f[a] == null]) || ((p.e.s3_bucket == null) == (p.e.s3_key == null) && (p.e.s3_bucket == null || p.e.package_path == null) && (p.e.s3_object_version == null || p.e.s3_bucket != null)) ? "" : "In ${p.at}, the function package comes from one place: package_path (a local zip), or s3_bucket and s3_key together (with s3_object_version optionally), not both.",
        p.f.record_processor == null || try(can(regex("^(alleycat|alleycat-window|archive|audit|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$", p.f.record_processor)), false) ? "" : "The ${p.at}.record_processor is ${jsonencode(p.f.record_processor)}: it must be `alleycat`, `alleycat-window`, `archive`, `audit` or `package.module:function`.",
        p.f.log_kms_key_arn == null || try(can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", p.f.log_kms_key_arn)), false) ? "" : "The ${p.at}.log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID).",
        p.f.vpc_subnet_ids == null || try(length(p.f.vpc_subnet_ids) <= 16 && alltrue([for id in p.f.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))]), false) ? "" : "The ${p.at}.vpc_subnet_ids are ${jsonencode(p.f.vpc_subnet_ids)}: Lambda takes up to 16 subnet IDs, such as `subnet-0123456789abcdef0`.",
        p.f.vpc_security_group_ids == null || try(length(p.f.vpc_security_group_ids) <= 5 && alltrue([for id in p.f.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))]), false) ? "" : "The ${p.at}.vpc_security_group_ids are ${jsonencode(p.f.vpc_security_group_ids)}: Lambda takes up to 5 security group IDs, such as `sg-0123456789abcdef0`.",
        (p.f.vpc_subnet_ids == null && p.f.vpc_security_group_ids == null) || (try(length(p.e.vpc_subnet_ids), 0) > 0) == (try(length(p.e.vpc_security_group_ids), 0) > 0) ? "" : "In ${p.at}, a function in a VPC needs both vpc_subnet_ids and vpc_security_group_ids (neither: no VPC).",
        p.f.policy_statements == null || try(alltrue([for st in p.f.policy_statements : can(regex("^[A-Za-z0-9]{1,100}$", st.sid)) && length(st.actions) > 0 && length(st.resources) > 0 && alltrue([for a in st.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]) && alltrue([for r in st.resources : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:[^*?]", r))])]), false) ? "" : "In ${p.at}.policy_statements, each statement needs an alphanumeric sid, actions named in full, such as `dynamodb:PutItem`, and resource ARNs whose partition, service, region and account are written out, such as `arn:aws:dynamodb:eu-west-1:123456789012:table/orders`: no wildcard action, no `*` resource, no `arn:*` or `arn:aws:dynamodb:*:*:table/*` (the role stays least privilege).",
        p.f.vpc_config == null ? "" : "The ${p.at}.vpc_config is not an input of this module (Terraform would drop it without a word): set ${p.at}.vpc_subnet_ids and vpc_security_group_ids, from which the module writes the function's vpc_config and its role's network interface permissions.",
        p.f.logging_config == null ? "" : "The ${p.at}.logging_config is not an input of this module (Terraform would drop it without a word): set ${p.at}.log_format, application_log_level and system_log_level.",
        p.f.permissions_boundary == null && p.f.role_permissions_boundary == null ? "" : "The ${p.at}.${p.f.permissions_boundary == null ? "role_permissions_boundary" : "permissions_boundary"} is not an input there (Terraform would drop it without a word): set the module's role_permissions_boundary, beside function, which applies to every role the module creates.",
        p.f.role_path == null ? "" : "The ${p.at}.role_path is not an input there (Terraform would drop it without a word): set the module's role_path, beside function, which applies to every role the module creates.",
        p.f.architectures == null ? "" : "The ${p.at}.architectures is not an input of this module (Terraform would drop it without a word): set ${p.at}.architecture, `arm64` or `x86_64`.",
    ] : problem if problem != ""]])) == 0
    error_message = join(" ", flatten([for p in concat(
      [{ at = "function", f = var.function, e = var.function }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].function", f = c.function, e = merge(var.function, { for a, x in c.function : a => x if x != null }) }],
      ) : [for problem in [
        p.f.runtime == null || try(can(regex("^python3\\.(1[2-9])$", p.f.runtime)), false) ? "" : "The ${p.at}.runtime is ${jsonencode(p.f.runtime)}: the handler is Python, so it must be a Python Lambda runtime of 3.12 or later, such as `python3.13`.",
        p.f.architecture == null || try(contains(["arm64", "x86_64"], p.f.architecture), false) ? "" : "The ${p.at}.architecture is ${jsonencode(p.f.architecture)}: it must be `arm64` or `x86_64`.",
        p.f.memory_mb == null || try(p.f.memory_mb >= 128 && p.f.memory_mb <= 10240 && floor(p.f.memory_mb) == p.f.memory_mb, false) ? "" : "The ${p.at}.memory_mb is ${jsonencode(p.f.memory_mb)}: Lambda takes a whole number of MB from 128 to 10240.",
        p.f.timeout_seconds == null || try(p.f.timeout_seconds >= 3 && p.f.timeout_seconds <= 900 && floor(p.f.timeout_seconds) == p.f.timeout_seconds, false) ? "" : "The ${p.at}.timeout_seconds is ${jsonencode(p.f.timeout_seconds)}: Lambda takes a whole number of seconds from 3 to 900.",
        p.f.reserved_concurrency == null || try((p.f.reserved_concurrency == -1 || p.f.reserved_concurrency >= 1) && floor(p.f.reserved_concurrency) == p.f.reserved_concurrency, false) ? "" : "The ${p.at}.reserved_concurrency is ${jsonencode(p.f.reserved_concurrency)}: it must be -1 (no reservation) or at least 1, since a reservation of 0 stops the consumer and the stream keeps its records only until its retention.",
        p.f.log_retention_days == null || try(contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], p.f.log_retention_days), false) ? "" : "The ${p.at}.log_retention_days is ${jsonencode(p.f.log_retention_days)}: it must be a CloudWatch Logs retention value, such as 1, 7, 14, 30, 90 or 365.",
        p.f.log_level == null || try(contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], p.f.log_level), false) ? "" : "The ${p.at}.log_level is ${jsonencode(p.f.log_level)}: the handler takes `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.",
        p.f.log_format == null || try(contains(["Text", "JSON"], p.f.log_format), false) ? "" : "The ${p.at}.log_format is ${jsonencode(p.f.log_format)}: Lambda writes logs as `Text` or `JSON`.",
        p.f.application_log_level == null || try(contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], p.f.application_log_level), false) ? "" : "The ${p.at}.application_log_level is ${jsonencode(p.f.application_log_level)}: Lambda takes `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`.",
        p.f.system_log_level == null || try(contains(["DEBUG", "INFO", "WARN"], p.f.system_log_level), false) ? "" : "The ${p.at}.system_log_level is ${jsonencode(p.f.system_log_level)}: Lambda takes `DEBUG`, `INFO` or `WARN`.",
        alltrue([for a in ["log_format", "application_log_level", "system_log_level"] : p.f[a] == null]) || p.e.log_format == "JSON" || (p.e.application_log_level == null && p.e.system_log_level == null) ? "" : "In ${p.at}, application_log_level and system_log_level filter JSON logs only: set log_format = \"JSON\" with them.",
        alltrue([for a in ["package_path", "s3_bucket", "s3_key", "s3_object_version"] : p.f[a] == null]) || ((p.e.s3_bucket == null) == (p.e.s3_key == null) && (p.e.s3_bucket == null || p.e.package_path == null) && (p.e.s3_object_version == null || p.e.s3_bucket != null)) ? "" : "In ${p.at}, the function package comes from one place: package_path (a local zip), or s3_bucket and s3_key together (with s3_object_version optionally), not both.",
        p.f.record_processor == null || try(can(regex("^(alleycat|alleycat-window|archive|audit|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$", p.f.record_processor)), false) ? "" : "The ${p.at}.record_processor is ${jsonencode(p.f.record_processor)}: it must be `alleycat`, `alleycat-window`, `archive`, `audit` or `package.module:function`.",
        p.f.log_kms_key_arn == null || try(can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", p.f.log_kms_key_arn)), false) ? "" : "The ${p.at}.log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID).",
        p.f.vpc_subnet_ids == null || try(length(p.f.vpc_subnet_ids) <= 16 && alltrue([for id in p.f.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))]), false) ? "" : "The ${p.at}.vpc_subnet_ids are ${jsonencode(p.f.vpc_subnet_ids)}: Lambda takes up to 16 subnet IDs, such as `subnet-0123456789abcdef0`.",
        p.f.vpc_security_group_ids == null || try(length(p.f.vpc_security_group_ids) <= 5 && alltrue([for id in p.f.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))]), false) ? "" : "The ${p.at}.vpc_security_group_ids are ${jsonencode(p.f.vpc_security_group_ids)}: Lambda takes up to 5 security group IDs, such as `sg-0123456789abcdef0`.",
        (p.f.vpc_subnet_ids == null && p.f.vpc_security_group_ids == null) || (try(length(p.e.vpc_subnet_ids), 0) > 0) == (try(length(p.e.vpc_security_group_ids), 0) > 0) ? "" : "In ${p.at}, a function in a VPC needs both vpc_subnet_ids and vpc_security_group_ids (neither: no VPC).",
        p.f.policy_statements == null || try(alltrue([for st in p.f.policy_statements : can(regex("^[A-Za-z0-9]{1,100}$", st.sid)) && length(st.actions) > 0 && length(st.resources) > 0 && alltrue([for a in st.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))]) && alltrue([for r in st.resources : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:[^*?]", r))])]), false) ? "" : "In ${p.at}.policy_statements, each statement needs an alphanumeric sid, actions named in full, such as `dynamodb:PutItem`, and resource ARNs whose partition, service, region and account are written out, such as `arn:aws:dynamodb:eu-west-1:123456789012:table/orders`: no wildcard action, no `*` resource, no `arn:*` or `arn:aws:dynamodb:*:*:table/*` (the role stays least privilege).",
        p.f.vpc_config == null ? "" : "The ${p.at}.vpc_config is not an input of this module (Terraform would drop it without a word): set ${p.at}.vpc_subnet_ids and vpc_security_group_ids, from which the module writes the function's vpc_config and its role's network interface permissions.",
        p.f.logging_config == null ? "" : "The ${p.at}.logging_config is not an input of this module (Terraform would drop it without a word): set ${p.at}.log_format, application_log_level and system_log_level.",
        p.f.permissions_boundary == null && p.f.role_permissions_boundary == null ? "" : "The ${p.at}.${p.f.permissions_boundary == null ? "role_permissions_boundary" : "permissions_boundary"} is not an input there (Terraform would drop it without a word): set the module's role_permissions_boundary, beside function, which applies to every role the module creates.",
        p.f.role_path == null ? "" : "The ${p.at}.role_path is not an input there (Terraform would drop it without a word): set the module's role_path, beside function, which applies to every role the module creates.",
        p.f.architectures == null ? "" : "The ${p.at}.architectures is not an input of this module (Terraform would drop it without a word): set ${p.at}.architecture, `arm64` or `x86_64`.",
    ] : problem if problem != ""]]))
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
      starting_position_timestamp in RFC 3339): where a new mapping starts. Read when a mapping is
      created (the first apply, or a switch of enhanced_fan_out, which replaces the mapping and is
      refused at LATEST on an applied consumer: README, "Switching between shared throughput and
      enhanced fan-out"); later changes are ignored.
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
  })
  default  = {}
  nullable = false

  # Every check of a mapping setting, once, over the top-level event_source_mapping (the default consumer) and each
  # consumers entry: f is what was written there (null: not written, inherited), e the
  # consumer's effective settings, for the checks across settings (an entry is named only when
  # it writes one of them itself; otherwise the top-level sentence says it).
  validation {
    condition = length(flatten([for p in concat(
      [{ at = "event_source_mapping", f = var.event_source_mapping, e = var.event_source_mapping }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].event_source_mapping", f = c.event_source_mapping, e = merge(var.event_source_mapping, { for a, x in c.event_source_mapping : a => x if x != null }) }],
      ) : [for problem in [
        p.f.batch_size == null || try(p.f.batch_size >= 1 && p.f.batch_size <= 10000 && floor(p.f.batch_size) == p.f.batch_size, false) ? "" : "The ${p.at}.batch_size is ${jsonencode(p.f.batch_size)}: Lambda takes a whole number from 1 to 10000 for Kinesis and DynamoDB Streams.",
        p.f.maximum_batching_window_seconds == null || try(p.f.maximum_batching_window_seconds >= 0 && p.f.maximum_batching_window_seconds <= 300 && floor(p.f.maximum_batching_window_seconds) == p.f.maximum_batching_window_seconds, false) ? "" : "The ${p.at}.maximum_batching_window_seconds is ${jsonencode(p.f.maximum_batching_window_seconds)}: Lambda takes a whole number of seconds from 0 to 300.",
        p.f.parallelization_factor == null || try(contains([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p.f.parallelization_factor), false) ? "" : "The ${p.at}.parallelization_factor is ${jsonencode(p.f.parallelization_factor)}: Lambda takes a whole number from 1 to 10.",
        p.f.starting_position == null || try(contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], p.f.starting_position), false) ? "" : "The ${p.at}.starting_position is ${jsonencode(p.f.starting_position)}: it must be `LATEST`, `TRIM_HORIZON` or `AT_TIMESTAMP`.",
        (p.f.starting_position == null && p.f.starting_position_timestamp == null) || (p.e.starting_position == "AT_TIMESTAMP") == (p.e.starting_position_timestamp != null) ? "" : "In ${p.at}, starting_position_timestamp must be set exactly when starting_position is `AT_TIMESTAMP`.",
        p.f.starting_position_timestamp == null || try(can(timeadd(p.f.starting_position_timestamp, "0s")), false) ? "" : "The ${p.at}.starting_position_timestamp is ${jsonencode(p.f.starting_position_timestamp)}: it must be an RFC 3339 time, such as `2026-11-23T08:00:00Z`.",
        p.f.maximum_retry_attempts == null || try(p.f.maximum_retry_attempts >= 0 && p.f.maximum_retry_attempts <= 10000 && floor(p.f.maximum_retry_attempts) == p.f.maximum_retry_attempts, false) ? "" : "The ${p.at}.maximum_retry_attempts is ${jsonencode(p.f.maximum_retry_attempts)}: it must be a whole number from 0 to 10000, a finite number, so that a poison batch reaches the on-failure destination.",
        p.f.maximum_record_age_seconds == null || try(p.f.maximum_record_age_seconds >= 60 && p.f.maximum_record_age_seconds <= 604800 && floor(p.f.maximum_record_age_seconds) == p.f.maximum_record_age_seconds, false) ? "" : "The ${p.at}.maximum_record_age_seconds is ${jsonencode(p.f.maximum_record_age_seconds)}: it must be from 60 to 604800, or null for half the stream retention (not -1, which retries until the records expire).",
        p.f.filter_patterns == null || try(length(p.f.filter_patterns) <= 5 && alltrue([for pattern in p.f.filter_patterns : can(jsondecode(pattern))]), false) ? "" : "The ${p.at}.filter_patterns must be at most 5 JSON documents, such as `{\"eventName\": [\"INSERT\", \"MODIFY\"]}`.",
        p.f.tumbling_window_seconds == null || try(p.f.tumbling_window_seconds >= 0 && p.f.tumbling_window_seconds <= 900 && floor(p.f.tumbling_window_seconds) == p.f.tumbling_window_seconds, false) ? "" : "The ${p.at}.tumbling_window_seconds is ${jsonencode(p.f.tumbling_window_seconds)}: it must be a whole number of seconds from 0 (no windows) to 900 (15 minutes, Lambda's maximum).",
    ] : problem if problem != ""]])) == 0
    error_message = join(" ", flatten([for p in concat(
      [{ at = "event_source_mapping", f = var.event_source_mapping, e = var.event_source_mapping }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].event_source_mapping", f = c.event_source_mapping, e = merge(var.event_source_mapping, { for a, x in c.event_source_mapping : a => x if x != null }) }],
      ) : [for problem in [
        p.f.batch_size == null || try(p.f.batch_size >= 1 && p.f.batch_size <= 10000 && floor(p.f.batch_size) == p.f.batch_size, false) ? "" : "The ${p.at}.batch_size is ${jsonencode(p.f.batch_size)}: Lambda takes a whole number from 1 to 10000 for Kinesis and DynamoDB Streams.",
        p.f.maximum_batching_window_seconds == null || try(p.f.maximum_batching_window_seconds >= 0 && p.f.maximum_batching_window_seconds <= 300 && floor(p.f.maximum_batching_window_seconds) == p.f.maximum_batching_window_seconds, false) ? "" : "The ${p.at}.maximum_batching_window_seconds is ${jsonencode(p.f.maximum_batching_window_seconds)}: Lambda takes a whole number of seconds from 0 to 300.",
        p.f.parallelization_factor == null || try(contains([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p.f.parallelization_factor), false) ? "" : "The ${p.at}.parallelization_factor is ${jsonencode(p.f.parallelization_factor)}: Lambda takes a whole number from 1 to 10.",
        p.f.starting_position == null || try(contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], p.f.starting_position), false) ? "" : "The ${p.at}.starting_position is ${jsonencode(p.f.starting_position)}: it must be `LATEST`, `TRIM_HORIZON` or `AT_TIMESTAMP`.",
        (p.f.starting_position == null && p.f.starting_position_timestamp == null) || (p.e.starting_position == "AT_TIMESTAMP") == (p.e.starting_position_timestamp != null) ? "" : "In ${p.at}, starting_position_timestamp must be set exactly when starting_position is `AT_TIMESTAMP`.",
        p.f.starting_position_timestamp == null || try(can(timeadd(p.f.starting_position_timestamp, "0s")), false) ? "" : "The ${p.at}.starting_position_timestamp is ${jsonencode(p.f.starting_position_timestamp)}: it must be an RFC 3339 time, such as `2026-11-23T08:00:00Z`.",
        p.f.maximum_retry_attempts == null || try(p.f.maximum_retry_attempts >= 0 && p.f.maximum_retry_attempts <= 10000 && floor(p.f.maximum_retry_attempts) == p.f.maximum_retry_attempts, false) ? "" : "The ${p.at}.maximum_retry_attempts is ${jsonencode(p.f.maximum_retry_attempts)}: it must be a whole number from 0 to 10000, a finite number, so that a poison batch reaches the on-failure destination.",
        p.f.maximum_record_age_seconds == null || try(p.f.maximum_record_age_seconds >= 60 && p.f.maximum_record_age_seconds <= 604800 && floor(p.f.maximum_record_age_seconds) == p.f.maximum_record_age_seconds, false) ? "" : "The ${p.at}.maximum_record_age_seconds is ${jsonencode(p.f.maximum_record_age_seconds)}: it must be from 60 to 604800, or null for half the stream retention (not -1, which retries until the records expire).",
        p.f.filter_patterns == null || try(length(p.f.filter_patterns) <= 5 && alltrue([for pattern in p.f.filter_patterns : can(jsondecode(pattern))]), false) ? "" : "The ${p.at}.filter_patterns must be at most 5 JSON documents, such as `{\"eventName\": [\"INSERT\", \"MODIFY\"]}`.",
        p.f.tumbling_window_seconds == null || try(p.f.tumbling_window_seconds >= 0 && p.f.tumbling_window_seconds <= 900 && floor(p.f.tumbling_window_seconds) == p.f.tumbling_window_seconds, false) ? "" : "The ${p.at}.tumbling_window_seconds is ${jsonencode(p.f.tumbling_window_seconds)}: it must be a whole number of seconds from 0 (no windows) to 900 (15 minutes, Lambda's maximum).",
    ] : problem if problem != ""]]))
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
    create                 = optional(bool)
    billing_mode           = optional(string)
    read_capacity          = optional(number)
    write_capacity         = optional(number)
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
    deletion_protection    = optional(bool)
  })
  default  = {}
  nullable = false

  # Every check of a sink setting, once, over the top-level sink (the default consumer) and each
  # consumers entry: f is what was written there (null: not written, inherited), e the
  # consumer's effective settings, for the checks across settings (an entry is named only when
  # it writes one of them itself; otherwise the top-level sentence says it).
  validation {
    condition = length(flatten([for p in concat(
      [{ at = "sink", f = var.sink, e = var.sink }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].sink", f = c.sink, e = merge(var.sink, { for a, x in c.sink : a => x if x != null }) }],
      ) : [for problem in [
        p.f.billing_mode == null || try(contains(["PAY_PER_REQUEST", "PROVISIONED"], p.f.billing_mode), false) ? "" : "The ${p.at}.billing_mode is ${jsonencode(p.f.billing_mode)}: it must be `PAY_PER_REQUEST` or `PROVISIONED`.",
        alltrue([for capacity in [p.f.read_capacity, p.f.write_capacity] : capacity == null || try(capacity >= 1 && floor(capacity) == capacity, false)]) ? "" : "The ${p.at}.read_capacity and write_capacity must be whole numbers of units, at least 1.",
        p.f.kms_key_arn == null || try(can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", p.f.kms_key_arn)), false) ? "" : "The ${p.at}.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): the role is granted its use on that ARN, and an alias would grant nothing.",
    ] : problem if problem != ""]])) == 0
    error_message = join(" ", flatten([for p in concat(
      [{ at = "sink", f = var.sink, e = var.sink }],
      [for k, c in var.consumers : { at = "consumers[\"${k}\"].sink", f = c.sink, e = merge(var.sink, { for a, x in c.sink : a => x if x != null }) }],
      ) : [for problem in [
        p.f.billing_mode == null || try(contains(["PAY_PER_REQUEST", "PROVISIONED"], p.f.billing_mode), false) ? "" : "The ${p.at}.billing_mode is ${jsonencode(p.f.billing_mode)}: it must be `PAY_PER_REQUEST` or `PROVISIONED`.",
        alltrue([for capacity in [p.f.read_capacity, p.f.write_capacity] : capacity == null || try(capacity >= 1 && floor(capacity) == capacity, false)]) ? "" : "The ${p.at}.read_capacity and write_capacity must be whole numbers of units, at least 1.",
        p.f.kms_key_arn == null || try(can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", p.f.kms_key_arn)), false) ? "" : "The ${p.at}.kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): the role is granted its use on that ARN, and an alias would grant nothing.",
    ] : problem if problem != ""]]))
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
    condition     = alltrue([for destination in concat([var.on_failure_destination], [for k, c in var.consumers : c.on_failure_destination if c.on_failure_destination != null]) : contains(["sqs", "s3"], destination)])
    error_message = "The ${join(" and the ", [for p in concat([{ at = "on_failure_destination", d = var.on_failure_destination }], [for k, c in var.consumers : { at = "consumers[\"${k}\"].on_failure_destination", d = c.on_failure_destination } if c.on_failure_destination != null]) : "${p.at} is ${jsonencode(p.d)}" if !contains(["sqs", "s3"], p.d)])}: it must be `sqs` (a queue message with the sequence range) or `s3` (an object with the records)."
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
    checks apply, and a refusal names the entry (`consumers["archive"].function.memory_mb`). A key
    whose derived names would collide with the stack's own (`consumer`: the default consumer's
    enhanced fan-out consumer is `<name>-consumer`), or make them too long, is refused at plan.
    - enhanced_fan_out: a dedicated-throughput consumer for this one (Kinesis only; the default
      consumer's is kinesis.enhanced_fan_out). Consumers without it share each shard's 5 reads/s
      and 2 MB/s: seed 002 measured 200 ms of latency per shared consumer, so up to 1 s for 5, and
      a plan with more than 5 shared consumers (2 readers of a DynamoDB stream) is refused.
  EOT
  type = map(object({
    enhanced_fan_out = optional(bool, false)
    function = optional(object({
      runtime                = optional(string)
      architecture           = optional(string)
      memory_mb              = optional(number)
      timeout_seconds        = optional(number)
      reserved_concurrency   = optional(number)
      tracing                = optional(bool)
      package_path           = optional(string)
      s3_bucket              = optional(string)
      s3_key                 = optional(string)
      s3_object_version      = optional(string)
      handler                = optional(string)
      record_processor       = optional(string)
      metrics_namespace      = optional(string)
      log_level              = optional(string)
      log_format             = optional(string)
      application_log_level  = optional(string)
      system_log_level       = optional(string)
      log_retention_days     = optional(number)
      log_kms_key_arn        = optional(string)
      environment            = optional(map(string))
      layers                 = optional(list(string))
      vpc_subnet_ids         = optional(list(string))
      vpc_security_group_ids = optional(list(string))
      policy_statements = optional(list(object({
        sid       = string
        actions   = list(string)
        resources = list(string)
      })))
      # Not inputs: names other modules give these settings, refused with the input to use.
      vpc_config                = optional(any)
      logging_config            = optional(any)
      permissions_boundary      = optional(any)
      role_permissions_boundary = optional(any)
      role_path                 = optional(any)
      architectures             = optional(any)
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

  # Keys, and the names derived from them: the function `<name>-<key>` (its queue, sink, role, log
  # group and alarms follow it) and the enhanced fan-out consumer `<name>-<key>`, which must not be
  # the default consumer's `<name>-consumer`.
  validation {
    condition = length(flatten([for k in keys(var.consumers) : [for problem in [
      can(regex("^[a-z][a-z0-9-]{0,19}$", k)) && k != "default" ? "" : "The consumers key ${jsonencode(k)} is not a consumer name: each key must be a lower-case letter followed by up to 19 lower-case letters, digits or `-`, such as `archive`, and `default` is the consumer the top-level function, event_source_mapping and sink describe.",
      length("${var.name}-${k}") <= 56 ? "" : "The consumers[\"${k}\"] would name its function \"${var.name}-${k}\", ${length("${var.name}-${k}")} characters, and its queue, sink, role and alarms after it: name and key together must be at most 55 characters (56 with the `-`), so shorten the name or the key.",
      "${var.name}-${k}" != "${var.name}-consumer" ? "" : "The consumers[\"${k}\"] would register its enhanced fan-out consumer as \"${var.name}-${k}\", the name of the default consumer's (\"${var.name}-consumer\", kept since 0.2): choose another key.",
    ] : problem if problem != ""]])) == 0
    error_message = join(" ", flatten([for k in keys(var.consumers) : [for problem in [
      can(regex("^[a-z][a-z0-9-]{0,19}$", k)) && k != "default" ? "" : "The consumers key ${jsonencode(k)} is not a consumer name: each key must be a lower-case letter followed by up to 19 lower-case letters, digits or `-`, such as `archive`, and `default` is the consumer the top-level function, event_source_mapping and sink describe.",
      length("${var.name}-${k}") <= 56 ? "" : "The consumers[\"${k}\"] would name its function \"${var.name}-${k}\", ${length("${var.name}-${k}")} characters, and its queue, sink, role and alarms after it: name and key together must be at most 55 characters (56 with the `-`), so shorten the name or the key.",
      "${var.name}-${k}" != "${var.name}-consumer" ? "" : "The consumers[\"${k}\"] would register its enhanced fan-out consumer as \"${var.name}-${k}\", the name of the default consumer's (\"${var.name}-consumer\", kept since 0.2): choose another key.",
    ] : problem if problem != ""]]))
  }
}

variable "on_failure_archive_days" {
  description = "With on_failure_destination `s3`: days an archived failure is kept before S3 expires it (90 by default: a quarter to investigate and redrive); a version made noncurrent (by an overwrite, a move or the expiry) is kept as long."
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
  description = "Customer KMS key for the on-failure queues; null uses SQS-managed encryption (SSE-SQS), which needs no key policy."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.on_failure_queue_kms_key_arn))
    error_message = "The on_failure_queue_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): the roles are granted its use on that ARN, and an alias would grant nothing."
  }
}

variable "on_failure_archive_kms_key_arn" {
  description = "Customer KMS key for the failure archive buckets (on_failure_destination `s3`): SSE-KMS with an S3 Bucket Key; null uses the AWS-managed key `aws/s3`. The roles get kms:GenerateDataKey and kms:Decrypt on it through S3 only; its key policy must allow them (and your operators, to read the archive)."
  type        = string
  default     = null

  validation {
    condition     = var.on_failure_archive_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.on_failure_archive_kms_key_arn))
    error_message = "The on_failure_archive_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): the roles are granted its use on that ARN, and an alias would grant nothing."
  }
}

variable "redrive_ledger_kms_key_arn" {
  description = "Customer KMS key for the redrive ledger table; null uses the AWS-managed key `aws/dynamodb`. Its key policy must let your operators use it through DynamoDB."
  type        = string
  default     = null

  validation {
    condition     = var.redrive_ledger_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.redrive_ledger_kms_key_arn))
    error_message = "The redrive_ledger_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "operator_role_arns" {
  description = <<-EOT
    The IAM roles (or users) of the people who run `stream-pipeline redrive --apply`: the only
    principals the redrive ledger's HMAC key lets sign and verify ledger entries (kms:GenerateMac,
    kms:VerifyMac). The account keeps the key's administration only, so no IAM policy alone, not even
    AdministratorAccess, can forge a ledger entry. Empty: nobody can, and redrive says to set this.
    Attach the `operator_policies` output's `redrive` policy to the same roles.
  EOT
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.operator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "Each operator_role_arns entry must be an IAM role or user ARN, such as `arn:aws:iam::123456789012:role/oncall`, with no wildcard: ${join(", ", [for i, arn in var.operator_role_arns : "operator_role_arns[${i}] is ${jsonencode(arn)}" if !can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])} is not."
  }
}

variable "role_permissions_boundary" {
  description = "A permissions boundary (an IAM managed policy ARN) for every IAM role the module creates (each consumer's execution role), as governed accounts require; null sets none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$", var.role_permissions_boundary))
    error_message = "The role_permissions_boundary must be an IAM managed policy ARN, such as `arn:aws:iam::123456789012:policy/boundary`."
  }
}

variable "role_path" {
  description = "The IAM path of every role the module creates (such as `/stream-pipeline/`), as governed accounts require; null is IAM's default, `/`. Changing it replaces the roles."
  type        = string
  default     = null

  validation {
    condition     = var.role_path == null || can(regex("^/([!-~]{1,510}/)?$", var.role_path))
    error_message = "The role_path must begin and end with `/`, such as `/stream-pipeline/`, at most 512 printable characters."
  }
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
    - create_sns_topic (true): create the topic, encrypted with a key CloudWatch may use. false with
      sns_topic_arn: notify a topic of yours (declared beside the module or elsewhere). A boolean,
      not whether the ARN is null: a topic declared beside the module has no ARN until apply.
    - email_addresses: subscribed to the topic (each must confirm by email).
    - period_seconds 300; 10 or 30 only with local_emulator = true (LocalStack), because AWS
      publishes these metrics once a minute.
  EOT
  type = object({
    enabled                     = optional(bool, true)
    email_addresses             = optional(list(string), [])
    create_sns_topic            = optional(bool)
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

  # The topic and who it emails (the terraform engineer's attributes of this object).
  validation {
    condition     = (var.alarms.create_sns_topic == false) == (var.alarms.sns_topic_arn != null)
    error_message = "Set alarms.create_sns_topic = false together with alarms.sns_topic_arn (notify a topic of yours), or neither (the module creates the topic)."
  }
  validation {
    condition     = var.alarms.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarms.sns_topic_arn))
    error_message = "The alarms.sns_topic_arn must be an SNS topic ARN, such as `arn:aws:sns:eu-west-1:123456789012:oncall`."
  }
  validation {
    condition     = alltrue([for e in var.alarms.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Not an email address: ${join(", ", [for i, e in var.alarms.email_addresses : "alarms.email_addresses[${i}] is ${jsonencode(e)}" if !can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])}. Each entry must be one, such as `oncall@example.com`."
  }
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
