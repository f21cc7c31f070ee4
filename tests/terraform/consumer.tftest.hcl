# modules/consumer on its own: the mapping's loss-proof defaults and the least-privilege policy.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

override_resource {
  target          = aws_dynamodb_table.sink
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline-sink"
  }
}

variables {
  name             = "pipeline"
  event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
  stream_arn       = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"
}

run "mapping_defaults_lose_nothing" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "Partial batch responses must always be on."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this[0].bisect_batch_on_function_error == true && aws_lambda_event_source_mapping.this[0].maximum_retry_attempts == 3
    error_message = "Bisect on error and finite retries by default."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this[0].destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:eu-west-1:123456789012:pipeline-failures"
    error_message = "The on-failure destination must be the module's queue."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this[0].maximum_record_age_in_seconds == 43200
    error_message = "The default maximum record age is half of the 24 h retention."
  }
  assert {
    condition     = aws_sqs_queue.on_failure[0].message_retention_seconds == 1209600 && aws_sqs_queue.on_failure[0].sqs_managed_sse_enabled == true
    error_message = "The on-failure queue keeps 14 days and is encrypted."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this[0].retention_in_days == 7 && aws_cloudwatch_log_group.this[0].name == "/aws/lambda/pipeline"
    error_message = "The function's own log group, 7 days."
  }
  assert {
    condition = (
      aws_lambda_function.this[0].runtime == "python3.13" && aws_lambda_function.this[0].memory_size == 128 &&
      aws_lambda_function.this[0].timeout == 30 && aws_lambda_function.this[0].reserved_concurrent_executions == -1
    )
    error_message = "Function defaults: python3.13, 128 MB, 30 s, and no reserved concurrency (a reservation must leave 100 unreserved, which a new account's quota cannot)."
  }
  assert {
    condition = (
      aws_lambda_function.this[0].environment[0].variables["RECORD_PROCESSOR"] == "alleycat" &&
      aws_lambda_function.this[0].environment[0].variables["SINK_TABLE_NAME"] == "pipeline-sink"
    )
    error_message = "A Kinesis consumer runs the alleycat processor into the sink."
  }
  assert {
    condition     = aws_dynamodb_table.sink[0].billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.sink[0].ttl[0].attribute_name == "expires_at"
    error_message = "The sink is on-demand, with TTL on expires_at."
  }
}

run "kinesis_policy_is_least_privilege" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s.Resource } == {
      ReadThisStream         = ["arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline"]
      WriteTheSink           = ["arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline-sink"]
      SendFailuresToTheQueue = ["arn:aws:sqs:eu-west-1:123456789012:pipeline-failures"]
      WriteOwnLogs           = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pipeline:*"]
    }
    error_message = "Each statement must name exactly this pipeline's resources, and nothing else may be granted."
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "No action may be a wildcard."
  }
}

run "dynamodb_policy_and_filters" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    source_type          = "dynamodb"
    event_source_arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"
    stream_arn           = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"
    stream_kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/source"
    sink                 = { create = false }
    event_source_mapping = { filter_patterns = ["{\"eventName\": [\"INSERT\", \"MODIFY\"]}"], starting_position = "TRIM_HORIZON" }
    function             = { tracing = true }
  }

  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s.Resource } == {
      ReadThisTableStream    = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"]
      ListTableStreams       = ["*"]
      SendFailuresToTheQueue = ["arn:aws:sqs:eu-west-1:123456789012:pipeline-failures"]
      WriteOwnLogs           = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/pipeline:*"]
      DecryptTheStreamKey    = ["arn:aws:kms:eu-west-1:123456789012:key/source"]
      SendTraces             = ["*"]
    }
    error_message = "A DynamoDB consumer without a sink reads its stream, decrypts its key, and nothing more."
  }
  assert {
    condition     = one(aws_lambda_event_source_mapping.this[0].filter_criteria[0].filter[*].pattern) == "{\"eventName\": [\"INSERT\", \"MODIFY\"]}"
    error_message = "Filter criteria must reach the mapping."
  }
  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables["RECORD_PROCESSOR"] == "audit" && !contains(keys(aws_lambda_function.this[0].environment[0].variables), "SINK_TABLE_NAME")
    error_message = "A DynamoDB consumer without a sink runs the audit processor with no table."
  }
  assert {
    condition     = length(aws_dynamodb_table.sink) == 0 && aws_lambda_function.this[0].tracing_config[0].mode == "Active"
    error_message = "No sink when sink.create is false; tracing on when asked."
  }
}

run "efo_consumer_gets_subscribe_on_the_consumer_only" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/c:1"
  }

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s.Resource }["SubscribeThroughThisConsumer"] == ["arn:aws:kinesis:eu-west-1:123456789012:stream/pipeline/consumer/c:1"]
    error_message = "Enhanced fan-out needs SubscribeToShard on its consumer only."
  }
}

run "record_age_follows_retention" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_retention_hours = 720
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].maximum_record_age_in_seconds == 604800
    error_message = "Half of 30 days exceeds Lambda's 7-day cap, so the cap applies."
  }
}

run "disabled_consumer_creates_nothing" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    enabled = false
  }

  assert {
    condition = (
      length(aws_lambda_function.this) + length(aws_lambda_event_source_mapping.this) + length(aws_sqs_queue.on_failure) +
      length(aws_dynamodb_table.sink) + length(aws_cloudwatch_log_group.this) + length(aws_iam_role.this) + length(aws_iam_role_policy.this)
    ) == 0
    error_message = "A disabled consumer must plan no resources."
  }
}

run "missing_package_is_a_clear_error" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { package_path = "./no/such/lambda.zip" }
  }

  expect_failures = [aws_lambda_function.this]
}

run "mapping_publishes_its_event_counts_by_default" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].metrics_config[0].metrics == toset(["EventCount"]) && output.event_source_mapping_metrics == true
    error_message = "EventCount metrics (dropped, failed, on-failure-delivered) are on by default: the alarms need them."
  }
  assert {
    condition     = output.maximum_record_age_seconds == 43200
    error_message = "The effective maximum record age (half of 24 h) is an output, for the alarms."
  }
}

run "mapping_metrics_can_be_switched_off" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_mapping = { metrics = false }
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.this[0].metrics_config) == 0 && output.event_source_mapping_metrics == false
    error_message = "metrics = false leaves the billed EventCount metrics off."
  }
}

run "refuses_a_maximum_record_age_at_or_above_the_retention" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_retention_hours = 24
    event_source_mapping   = { maximum_record_age_seconds = 86400 }
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "metrics_namespace_follows_the_environment" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { environment = { METRICS_NAMESPACE = "Team/Orders" } }
  }

  assert {
    condition     = output.metrics_namespace == "Team/Orders" && aws_lambda_function.this[0].environment[0].variables["METRICS_NAMESPACE"] == "Team/Orders"
    error_message = "METRICS_NAMESPACE set through function.environment is what the handler uses, so the dashboard and alarms must use it too."
  }
}

run "package_from_s3" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { s3_bucket = "artifacts", s3_key = "stream-pipeline/0.2.0/lambda.zip", s3_object_version = "3" }
  }

  assert {
    condition = (
      aws_lambda_function.this[0].s3_bucket == "artifacts" && aws_lambda_function.this[0].s3_key == "stream-pipeline/0.2.0/lambda.zip" &&
      aws_lambda_function.this[0].s3_object_version == "3" && aws_lambda_function.this[0].filename == null
    )
    error_message = "A package published to S3 is deployed from S3, with no local file."
  }
}

run "the_committed_package_is_the_default" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition     = endswith(aws_lambda_function.this[0].filename, "modules/consumer/package/lambda.zip") && aws_lambda_function.this[0].source_code_hash == filebase64sha256("modules/consumer/package/lambda.zip")
    error_message = "With no package given, the module deploys its own committed zip, pinned by its hash."
  }
}

run "extra_policy_statements_are_added_to_ours" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { policy_statements = [{ sid = "WriteOrders", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"] }] }
  }

  assert {
    condition = contains([
      for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Sid if st.Action == ["dynamodb:PutItem"] && st.Resource == ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"]
    ], "WriteOrders") && contains([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Sid], "ReadThisStream")
    error_message = "The caller's statement is added, and ours are kept."
  }
}

run "refuses_reserved_concurrency_below_shards_times_parallelization" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    shard_count          = 4
    function             = { reserved_concurrency = 7 }
    event_source_mapping = { parallelization_factor = 2 }
  }

  expect_failures = [aws_lambda_function.this]
}

run "refuses_reserved_concurrency_below_an_on_demand_streams_first_shards" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_mode          = "ON_DEMAND"
    function             = { reserved_concurrency = 3 }
    event_source_mapping = { parallelization_factor = 1 }
  }

  expect_failures = [aws_lambda_function.this]
}

run "accepts_enough_reserved_concurrency_or_none" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    shard_count          = 4
    function             = { reserved_concurrency = 8 }
    event_source_mapping = { parallelization_factor = 2 }
  }

  assert {
    condition     = aws_lambda_function.this[0].reserved_concurrent_executions == 8
    error_message = "4 shards x 2 = 8 concurrent batches: a reservation of 8 is enough."
  }
}

run "role_name_carries_the_region_and_the_mapping_is_tagged" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    tags = { Team = "data" }
  }

  assert {
    condition     = aws_iam_role.this[0].name == "pipeline-eu-west-1" && aws_lambda_event_source_mapping.this[0].tags == tomap({ Team = "data" })
    error_message = "IAM is global: the role name carries the region; the mapping carries the tags."
  }
}

run "a_long_name_keeps_the_role_within_64_characters" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    name = "a-very-long-pipeline-name-that-fills-fifty-six-charactr"
  }

  assert {
    condition     = length(aws_iam_role.this[0].name) <= 64 && endswith(aws_iam_role.this[0].name, "-eu-west-1")
    error_message = "The role name stays within IAM's 64 characters and keeps the region."
  }
}

run "failure_archive_in_s3_keeps_the_records" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    on_failure_destination  = "s3"
    on_failure_archive_days = 30
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].destination_config[0].on_failure[0].destination_arn == "arn:aws:s3:::pipeline-failures-20261123" && length(aws_sqs_queue.on_failure) == 0
    error_message = "With s3, the mapping sends failures to the archive bucket, and there is no queue."
  }
  assert {
    condition = (
      aws_s3_bucket_public_access_block.on_failure[0].block_public_acls && aws_s3_bucket_public_access_block.on_failure[0].restrict_public_buckets &&
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_lifecycle_configuration.on_failure[0].rule).expiration[0].days == 30
    )
    error_message = "The archive is private, encrypted, and expires after on_failure_archive_days."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.on_failure[0].policy).Statement[0].Effect == "Deny" && jsondecode(aws_s3_bucket_policy.on_failure[0].policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "The archive refuses requests without TLS."
  }
  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Resource if st.Sid == "WriteTheFailureArchive"]) == ["arn:aws:s3:::pipeline-failures-20261123/aws/lambda/*"] &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Action if st.Sid == "WriteTheFailureArchive"]) == ["s3:PutObject"] &&
      !contains([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Sid], "SendFailuresToTheQueue")
    )
    error_message = "The role may put objects into this bucket only, under the prefix Lambda writes (aws/lambda/), and has no queue grant."
  }
  assert {
    condition     = aws_s3_bucket.on_failure[0].force_destroy == false
    error_message = "Destroying (or renaming, which replaces) the archive must not delete the failures in it unless on_failure_archive_force_destroy says so."
  }
}

run "a_name_with_capitals_and_underscores_gives_a_valid_bucket" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    name                   = "Orders_Audit"
    on_failure_destination = "s3"
  }

  assert {
    condition     = aws_s3_bucket.on_failure[0].bucket_prefix == "orders-audit-failures-" && can(regex("^[a-z0-9][a-z0-9.-]*$", aws_s3_bucket.on_failure[0].bucket_prefix))
    error_message = "S3 takes lower-case letters, digits, dots and hyphens: Orders_Audit must give the prefix orders-audit-failures-, not a name that fails at apply."
  }
}

run "losing_archived_failures_is_an_explicit_choice" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    on_failure_destination           = "s3"
    on_failure_archive_force_destroy = true
  }

  assert {
    condition     = aws_s3_bucket.on_failure[0].force_destroy == true
    error_message = "on_failure_archive_force_destroy = true lets terraform destroy the archive with its failures."
  }
}

run "only_lambda_for_this_account_assumes_the_role_and_keys_are_used_only_through_their_service" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    stream_kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/stream"
    on_failure_queue_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/queue"
    sink                         = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/sink" }
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "The trust policy lets Lambda assume the role only on behalf of this account (confused-deputy prevention)."
  }
  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Condition.StringEquals["kms:ViaService"] if st.Sid == "DecryptTheStreamKey"]) == "kinesis.eu-west-1.amazonaws.com" &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Condition.StringEquals["kms:ViaService"] if st.Sid == "UseTheQueueKey"]) == "sqs.eu-west-1.amazonaws.com" &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Condition.StringEquals["kms:ViaService"] if st.Sid == "UseTheSinkKey"]) == "dynamodb.eu-west-1.amazonaws.com" &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Resource if st.Sid == "UseTheQueueKey"]) == ["arn:aws:kms:eu-west-1:123456789012:key/queue"]
    )
    error_message = "Each customer key is usable only through the service it encrypts (kms:ViaService), and only that key."
  }
}

run "the_queue_refuses_plain_http" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue_policy.on_failure[0].policy).Statement[0].Effect == "Deny" &&
      jsondecode(aws_sqs_queue_policy.on_failure[0].policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    )
    error_message = "The on-failure queue denies every request made without TLS."
  }
}

run "the_function_can_never_touch_the_redrive_ledger" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    redrive_ledger_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline-redrive-ledger"
    redrive_ledger_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/ledger"
    function = {
      policy_statements = [{ sid = "TriesTheLedger", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline-redrive-ledger"] }]
    }
  }

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Effect if st.Sid == "NeverTheRedriveLedger"]) == "Deny" &&
      length(setsubtract(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate"], one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Action if st.Sid == "NeverTheRedriveLedger"]))) == 0 &&
      contains(one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Resource if st.Sid == "NeverTheRedriveLedger"]), "arn:aws:dynamodb:eu-west-1:123456789012:table/pipeline-redrive-ledger") &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Effect if st.Sid == "NeverTheRedriveLedgerKey"]) == "Deny" &&
      contains(one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Action if st.Sid == "NeverTheRedriveLedgerKey"]), "kms:GenerateMac")
    )
    error_message = "An explicit deny on the ledger table and its key: no statement of the caller's (nor a managed policy attached later) can let the function forge the ledger."
  }
}

run "tumbling_windows_reach_the_mapping" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_mapping = { tumbling_window_seconds = 15 }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this[0].tumbling_window_in_seconds == 15
    error_message = "event_source_mapping.tumbling_window_seconds sets the mapping's TumblingWindowInSeconds (the Alleycat sample's 15 s windows)."
  }
}

run "kpl_aggregates_need_a_parallelization_factor_of_one" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    kpl_aggregated_records = true
    event_source_mapping   = { parallelization_factor = 2 }
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}
