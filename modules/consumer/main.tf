locals {
  enabled     = var.enabled
  create_sink = local.enabled && var.sink.create
  kinesis     = var.source_type == "kinesis"
  from_s3     = var.function.s3_bucket != null
  # The committed, deterministic package: no build step for a module used from a git source.
  own_package  = !local.from_s3 && var.function.package_path == null
  package_path = local.from_s3 ? null : coalesce(var.function.package_path, "${path.module}/package/lambda.zip")
  # arm64 for our own package: it is pure Python (no compiled code: ARCH=arm64 make package gives the
  # same bytes), and Graviton costs about 20% less per GB-second. A package of yours may carry wheels
  # built for x86_64 (scripts/package.py's default), so it keeps Lambda's own default unless you say.
  architecture = coalesce(var.function.architecture, local.own_package ? "arm64" : "x86_64")
  # In a VPC when given subnets (a list of known length, even when the IDs are known only at apply).
  vpc = length(var.function.vpc_subnet_ids) > 0
  # Lambda's advanced logging controls: with JSON, the application log level follows the handler's
  # LOG_LEVEL unless set, so that Lambda does not filter out what the handler was told to write.
  json_logs = var.function.log_format == "JSON"
  application_log_level = local.json_logs ? coalesce(var.function.application_log_level, lookup(
    { DEBUG = "DEBUG", INFO = "INFO", WARNING = "WARN", ERROR = "ERROR", CRITICAL = "FATAL" }, var.function.log_level, "INFO"
  )) : null
  # The stream's shards when known (a provisioned stream's, or an existing stream's as given); an
  # on-demand stream created here starts with 4 and changes on its own.
  on_demand_guess        = local.kinesis && var.shard_count == null && var.stream_mode == "ON_DEMAND"
  shards_for_concurrency = local.kinesis ? (local.on_demand_guess ? 4 : var.shard_count) : null
  least_concurrency      = local.shards_for_concurrency == null ? null : local.shards_for_concurrency * var.event_source_mapping.parallelization_factor
  log_group              = "/aws/lambda/${var.name}"
  # What the mapping reads (README, "Switching between shared throughput and enhanced fan-out"):
  # moving between the two replaces the mapping, and a new mapping starts where its starting
  # position says. A name known at plan, unlike the fan-out consumer's ARN.
  read_path               = var.enhanced_fan_out_consumer_name == null ? "the stream's shared throughput" : "the enhanced fan-out consumer ${jsonencode(var.enhanced_fan_out_consumer_name)}"
  archive                 = local.enabled && var.on_failure_destination == "s3"
  failure_destination_arn = local.archive ? try(aws_s3_bucket.on_failure[0].arn, null) : try(aws_sqs_queue.on_failure[0].arn, null)

  # Half the retention, so a record sent to the queue can still be replayed from the stream; Lambda caps it at 7 days.
  maximum_record_age_seconds = coalesce(
    var.event_source_mapping.maximum_record_age_seconds,
    min(604800, floor(var.stream_retention_hours * 3600 / 2)),
  )

  environment = merge(
    {
      PIPELINE_NAME           = coalesce(var.pipeline_name, var.name)
      POWERTOOLS_SERVICE_NAME = var.name
      METRICS_NAMESPACE       = var.function.metrics_namespace
      LOG_LEVEL               = var.function.log_level
      RECORD_PROCESSOR        = coalesce(var.function.record_processor, local.kinesis ? "alleycat" : "audit")
    },
    local.create_sink ? { SINK_TABLE_NAME = aws_dynamodb_table.sink[0].name } : {},
    var.function.environment,
  )
}

resource "aws_cloudwatch_log_group" "this" {
  count = local.enabled ? 1 : 0

  # Created before the function, so that Lambda never creates an unmanaged one without retention.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer key is opt-in through function.log_kms_key_arn.
  name              = local.log_group
  retention_in_days = var.function.log_retention_days
  kms_key_id        = var.function.log_kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "on_failure" {
  count = local.enabled && var.on_failure_destination == "sqs" ? 1 : 0

  # Receives one message per batch that exhausted its retries or its maximum age: the shard and the
  # sequence-number range, to replay from the stream. 14 days, the SQS maximum, to get to it.
  name                              = "${var.name}-failures"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.on_failure_queue_kms_key_arn == null ? true : null
  kms_master_key_id                 = var.on_failure_queue_kms_key_arn
  kms_data_key_reuse_period_seconds = var.on_failure_queue_kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_sqs_queue_policy" "on_failure" {
  count = local.enabled && var.on_failure_destination == "sqs" ? 1 : 0

  # Lambda sends with the function's role (an identity policy); the queue itself only refuses
  # anything over plain HTTP.
  queue_url = aws_sqs_queue.on_failure[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TlsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.on_failure[0].arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_dynamodb_table" "sink" {
  count = local.create_sink ? 1 : 0

  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on by default (sink.point_in_time_recovery); checkov cannot read optional() defaults.
  #checkov:skip=CKV2_AWS_16:On-demand by default, which needs no auto scaling; PROVISIONED is an explicit, sized choice.
  name                        = "${var.name}-sink"
  billing_mode                = var.sink.billing_mode
  read_capacity               = var.sink.billing_mode == "PROVISIONED" ? var.sink.read_capacity : null
  write_capacity              = var.sink.billing_mode == "PROVISIONED" ? var.sink.write_capacity : null
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.sink.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.sink.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.sink.kms_key_arn
  }

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  count = local.enabled ? 1 : 0

  #checkov:skip=CKV_AWS_116:A DLQ serves asynchronous invocations only; stream records fail over to the mapping's on-failure queue.
  #checkov:skip=CKV_AWS_117:A VPC is opt-in (function.vpc_subnet_ids and vpc_security_group_ids, for accounts that mandate one); by default the function calls only AWS APIs, and a VPC would add NAT or endpoint cost and protect nothing.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile of the user's; the zip is deterministic and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (table name, log level, processor), so no customer key is needed.
  #checkov:skip=CKV_AWS_50:X-Ray tracing costs per trace and is opt-in through function.tracing.
  function_name                  = var.name
  role                           = aws_iam_role.this[0].arn
  runtime                        = var.function.runtime
  architectures                  = [local.architecture]
  handler                        = var.function.handler
  filename                       = local.package_path
  source_code_hash               = local.from_s3 ? null : (fileexists(local.package_path) ? filebase64sha256(local.package_path) : null)
  s3_bucket                      = var.function.s3_bucket
  s3_key                         = var.function.s3_key
  s3_object_version              = var.function.s3_object_version
  memory_size                    = var.function.memory_mb
  timeout                        = var.function.timeout_seconds
  reserved_concurrent_executions = var.function.reserved_concurrency
  layers                         = var.function.layers

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = var.function.tracing ? "Active" : "PassThrough"
  }

  # Always written (Text by default), so that going back from JSON is a change Terraform makes.
  logging_config {
    log_format            = var.function.log_format
    log_group             = local.log_group
    application_log_level = local.application_log_level
    system_log_level      = local.json_logs ? var.function.system_log_level : null
  }

  dynamic "vpc_config" {
    for_each = local.vpc ? [1] : []
    content {
      subnet_ids         = var.function.vpc_subnet_ids
      security_group_ids = var.function.vpc_security_group_ids
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.from_s3 || fileexists(coalesce(local.package_path, "-"))
      error_message = "The Lambda package ${coalesce(local.package_path, "-")} does not exist. Set function.package_path to your zip, or s3_bucket and s3_key to a package in S3."
    }
    precondition {
      condition     = var.function.reserved_concurrency == -1 || local.least_concurrency == null || var.function.reserved_concurrency >= coalesce(local.least_concurrency, 0)
      error_message = "The function.reserved_concurrency (${var.function.reserved_concurrency}) is below the ${coalesce(local.least_concurrency, 0)} concurrent batches the stream needs (${coalesce(local.shards_for_concurrency, 0)} shards${local.on_demand_guess ? " an on-demand stream starts with" : ""} x parallelization factor ${var.event_source_mapping.parallelization_factor}): the stream would throttle its own consumer. Raise it, or set -1 for no reservation."
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# What the mapping reads, as it was when the starting position was last set (or when the mapping was
# first created). Terraform replaces the mapping when event_source_arn changes (the stream's ARN or
# an enhanced fan-out consumer's: `enhanced_fan_out` flipped), and the new mapping starts where the
# starting position says: at LATEST, after every record its predecessor had not read yet and every
# record put during the switch. The mapping's precondition compares this record with the read path
# now configured, so a plan that would do that is refused.
#
# Why a record of its own: a plan sees only planned values, so the read path before the switch can
# come only from an object this plan leaves alone. `ignore_changes` keeps the recorded read path
# through a switch; a change of the starting position replaces the record with the read path of the
# moment, which is right whenever the position has just been set (the mapping ignores later changes
# of it, so they replace nothing). What it cannot see: a switch planned together with a change of the
# starting position (the record is replaced in that very plan), which is why the README tells you to
# switch with a new position, never back to LATEST in the same change.
resource "terraform_data" "mapping_read_path" {
  count = local.enabled ? 1 : 0

  input            = local.read_path
  triggers_replace = [var.event_source_mapping.starting_position, var.event_source_mapping.starting_position_timestamp]

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_lambda_event_source_mapping" "this" {
  count = local.enabled ? 1 : 0

  function_name                      = aws_lambda_function.this[0].arn
  event_source_arn                   = var.event_source_arn
  enabled                            = var.event_source_mapping.enabled
  batch_size                         = var.event_source_mapping.batch_size
  maximum_batching_window_in_seconds = var.event_source_mapping.maximum_batching_window_seconds
  parallelization_factor             = var.event_source_mapping.parallelization_factor
  starting_position                  = var.event_source_mapping.starting_position
  starting_position_timestamp        = var.event_source_mapping.starting_position_timestamp
  bisect_batch_on_function_error     = var.event_source_mapping.bisect_batch_on_function_error
  maximum_retry_attempts             = var.event_source_mapping.maximum_retry_attempts
  maximum_record_age_in_seconds      = local.maximum_record_age_seconds
  tumbling_window_in_seconds         = var.event_source_mapping.tumbling_window_seconds > 0 ? var.event_source_mapping.tumbling_window_seconds : null
  function_response_types            = ["ReportBatchItemFailures"]

  # EventCount metrics (billed as custom metrics): dropped, failed-invoke and on-failure-delivered
  # counts per mapping, which the alarms module watches.
  dynamic "metrics_config" {
    for_each = var.event_source_mapping.metrics ? [1] : []
    content {
      metrics = ["EventCount"]
    }
  }

  destination_config {
    on_failure {
      destination_arn = local.failure_destination_arn
    }
  }

  tags = var.tags

  dynamic "filter_criteria" {
    for_each = length(var.event_source_mapping.filter_patterns) > 0 ? [1] : []
    content {
      dynamic "filter" {
        for_each = var.event_source_mapping.filter_patterns
        content {
          pattern = filter.value
        }
      }
    }
  }

  lifecycle {
    # The starting position matters only when a mapping is created (Lambda reads it then, and the
    # provider would replace the mapping for a change of it: a change to LATEST would skip records).
    # Ignored afterwards; a new mapping (the first, or after a read path switch) takes the value set.
    ignore_changes = [starting_position, starting_position_timestamp]

    precondition {
      condition     = var.event_source_arn != null && var.stream_arn != null
      error_message = "The consumer needs event_source_arn and stream_arn: pass the outputs of modules/stream."
    }
    precondition {
      condition     = !var.kpl_aggregated_records || var.event_source_mapping.parallelization_factor == 1
      error_message = "The producers put KPL aggregates (kinesis.kpl_aggregation), so event_source_mapping.parallelization_factor must be 1, not ${var.event_source_mapping.parallelization_factor}: an aggregate's partition key is one of its records', and concurrent batches would apply a later record of some key before an earlier one. Add shards for throughput instead."
    }
    precondition {
      condition     = var.event_source_mapping.starting_position != "LATEST" || terraform_data.mapping_read_path[0].output == local.read_path
      error_message = "The ${var.input_names.enhanced_fan_out} change moves the event source mapping of ${var.name} from ${terraform_data.mapping_read_path[0].output} to ${local.read_path}: Terraform replaces the mapping, and with ${var.input_names.event_source_mapping}.starting_position = \"LATEST\" the new one would start at the tip of the stream, skipping every record the old one had not read yet and every record put during the switch, with no error and no alarm. Set ${var.input_names.event_source_mapping}.starting_position = \"AT_TIMESTAMP\" with ${var.input_names.event_source_mapping}.starting_position_timestamp = a time before the switch (now less the consumer's iterator age, such as \"${timeadd(plantimestamp(), "-15m")}\"), or \"TRIM_HORIZON\" if processing a record twice is harmless (the new mapping re-reads the whole retention). The position applies to the new mapping only: you may remove it after the switch."
    }
    precondition {
      condition     = var.event_source_mapping.starting_position != "AT_TIMESTAMP" || local.kinesis
      error_message = "The starting_position `AT_TIMESTAMP` is supported for Kinesis only."
    }
    precondition {
      condition     = local.maximum_record_age_seconds < var.stream_retention_hours * 3600
      error_message = "The event_source_mapping.maximum_record_age_seconds (${local.maximum_record_age_seconds} s) must be below the stream retention (${var.stream_retention_hours * 3600} s): otherwise records expire from the stream before Lambda hands them to the on-failure destination, and are lost without a trace."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
