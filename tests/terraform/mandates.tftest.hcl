# Governed-account mandates as inputs, applied to everything the module creates: a VPC with the
# network interface permissions Lambda needs, a permissions boundary and a path on the roles, JSON
# logs with their levels, customer keys for the failure archive and the ledger, tags; the ledger's
# HMAC key usable by the named operators only; the failure archive versioned; no wildcard ARNs in
# a team's statements; the names a user writes, refused with the input to use.

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

run "a_function_in_a_vpc_gets_the_network_interface_permissions_on_its_subnets_only" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { vpc_subnet_ids = ["subnet-0a", "subnet-0b"], vpc_security_group_ids = ["sg-0c"] }
  }

  assert {
    condition = (
      aws_lambda_function.this[0].vpc_config[0].subnet_ids == toset(["subnet-0a", "subnet-0b"]) &&
      aws_lambda_function.this[0].vpc_config[0].security_group_ids == toset(["sg-0c"])
    )
    error_message = "The function runs in the given subnets and security groups."
  }
  assert {
    condition = { for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Sid => st if startswith(st.Sid, "Describe") || strcontains(st.Sid, "Network") } == {
      DescribeTheNetwork = { Sid = "DescribeTheNetwork", Effect = "Allow", Action = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource = ["*"] }
      CreateNetworkInterfacesInTheseSubnets = {
        Sid = "CreateNetworkInterfacesInTheseSubnets", Effect = "Allow", Action = ["ec2:CreateNetworkInterface"]
        Resource = [
          "arn:aws:ec2:eu-west-1:123456789012:network-interface/*", "arn:aws:ec2:eu-west-1:*:subnet/subnet-0a",
          "arn:aws:ec2:eu-west-1:*:subnet/subnet-0b", "arn:aws:ec2:eu-west-1:*:security-group/sg-0c",
        ]
      }
      ManageTheNetworkInterfaces = {
        Sid      = "ManageTheNetworkInterfaces", Effect = "Allow", Action = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
        Resource = ["arn:aws:ec2:eu-west-1:123456789012:network-interface/*"]
      }
    }
    error_message = "Lambda's ENI actions, each on what it touches: describe on * (no resource-level permission), create in these subnets and groups, manage this account's interfaces."
  }
}

run "outside_a_vpc_there_is_no_vpc_config_and_no_network_permission" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition     = length(aws_lambda_function.this[0].vpc_config) == 0 && !anytrue([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : anytrue([for a in st.Action : startswith(a, "ec2:")])])
    error_message = "No VPC unless subnets are given, and then no ec2 permission either."
  }
}

run "the_role_carries_the_boundary_and_the_path" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    role_path                 = "/stream-pipeline/"
  }

  assert {
    condition     = aws_iam_role.this[0].permissions_boundary == "arn:aws:iam::123456789012:policy/boundary" && aws_iam_role.this[0].path == "/stream-pipeline/"
    error_message = "The execution role carries the permissions boundary and the path the account mandates."
  }
}

run "json_logs_follow_the_handlers_log_level" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { log_format = "JSON", log_level = "WARNING", system_log_level = "WARN" }
  }

  assert {
    condition = (
      aws_lambda_function.this[0].logging_config[0].log_format == "JSON" && aws_lambda_function.this[0].logging_config[0].application_log_level == "WARN" &&
      aws_lambda_function.this[0].logging_config[0].system_log_level == "WARN" && aws_lambda_function.this[0].logging_config[0].log_group == "/aws/lambda/pipeline"
    )
    error_message = "JSON logs, filtered by Lambda at the handler's own level (WARNING is Lambda's WARN), into the module's log group."
  }
}

run "text_logs_are_written_explicitly" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition = (
      aws_lambda_function.this[0].logging_config[0].log_format == "Text" && aws_lambda_function.this[0].logging_config[0].application_log_level == null &&
      aws_lambda_function.this[0].logging_config[0].system_log_level == null
    )
    error_message = "Text by default, written out, so that going back from JSON is a change Terraform makes."
  }
}

run "log_levels_need_json_logs" {
  command = plan

  variables {
    function = { application_log_level = "DEBUG" }
  }

  expect_failures = [var.function]
}

run "arm64_for_our_own_package_x86_64_for_yours" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  assert {
    condition     = aws_lambda_function.this[0].architectures == tolist(["arm64"])
    error_message = "The module's own package is pure Python: Graviton, about 20% cheaper per GB-second."
  }
}

run "a_package_of_yours_keeps_x86_64_unless_you_say" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { s3_bucket = "artifacts", s3_key = "orders/lambda.zip" }
  }

  assert {
    condition     = aws_lambda_function.this[0].architectures == tolist(["x86_64"])
    error_message = "A package of yours may carry wheels built for x86_64: no guess."
  }
}

run "the_failure_archive_is_versioned_and_encrypted_with_the_customer_key" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    on_failure_destination         = "s3"
    on_failure_archive_days        = 30
    on_failure_archive_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/archive"
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/archive" &&
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).bucket_key_enabled
    )
    error_message = "SSE-KMS with the customer key, and a Bucket Key to keep KMS requests few."
  }
  assert {
    condition = (
      aws_s3_bucket_versioning.on_failure[0].versioning_configuration[0].status == "Enabled" &&
      one(aws_s3_bucket_lifecycle_configuration.on_failure[0].rule).noncurrent_version_expiration[0].noncurrent_days == 30 &&
      one(aws_s3_bucket_lifecycle_configuration.on_failure[0].rule).expiration[0].days == 30
    )
    error_message = "Versioned, so that an overwritten failure shows as a second version (redrive refuses it) and the first is kept, as long as a failure is."
  }
  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Resource if st.Sid == "UseTheArchiveKey"]) == ["arn:aws:kms:eu-west-1:123456789012:key/archive"] &&
      one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Condition.StringEquals["kms:ViaService"] if st.Sid == "UseTheArchiveKey"]) == "s3.eu-west-1.amazonaws.com" &&
      toset(one([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Action if st.Sid == "UseTheArchiveKey"])) == toset(["kms:GenerateDataKey", "kms:Decrypt"])
    )
    error_message = "The role may use the archive key through S3 only."
  }
}

run "without_a_customer_key_the_archive_uses_the_aws_managed_key" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    on_failure_destination = "s3"
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.on_failure[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == null &&
      !contains([for st in jsondecode(aws_iam_role_policy.this[0].policy).Statement : st.Sid], "UseTheArchiveKey")
    )
    error_message = "aws/s3 needs no grant: no key statement."
  }
}

run "the_trust_policy_names_the_functions_account_not_the_streams" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    event_source_arn = "arn:aws:kinesis:eu-west-1:210987654321:stream/orders"
    stream_arn       = "arn:aws:kinesis:eu-west-1:210987654321:stream/orders"
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "Lambda acts for the function's account (read from its log group), not the stream's owner."
  }
}

run "every_taggable_resource_is_tagged" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    on_failure_destination = "s3"
    tags                   = { Team = "data" }
  }

  assert {
    condition = alltrue([for tags in [
      aws_lambda_function.this[0].tags, aws_iam_role.this[0].tags, aws_cloudwatch_log_group.this[0].tags,
      aws_lambda_event_source_mapping.this[0].tags, aws_dynamodb_table.sink[0].tags, aws_s3_bucket.on_failure[0].tags,
    ] : tags == tomap({ Team = "data" })])
    error_message = "Every taggable resource carries the tags (tests/consumer checks every one of a whole stack against the provider's schema)."
  }
}

run "the_ledger_key_signs_for_the_operators_only_and_the_account_administers_it" {
  command = plan
  module {
    source = "./modules/operator"
  }

  variables {
    operator_role_arns = ["arn:aws:iam::123456789012:role/oncall", "arn:aws:iam::123456789012:user/alice"]
    ledger_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/ledger-table"
    consumers          = { default = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:pipeline" } }
  }

  assert {
    condition = (
      jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root" &&
      !contains(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Action, "kms:*") &&
      !contains(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Action, "kms:GenerateMac") &&
      !contains(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Action, "kms:VerifyMac") &&
      !contains(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Action, "kms:CreateGrant") &&
      contains(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[0].Action, "kms:PutKeyPolicy")
    )
    error_message = "The account keeps the key's administration only: no kms:*, no MAC, no grant (which could pass the MAC on)."
  }
  assert {
    condition = (
      length(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement) == 2 &&
      jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[1].Principal.AWS == ["arn:aws:iam::123456789012:role/oncall", "arn:aws:iam::123456789012:user/alice"] &&
      jsondecode(aws_kms_key_policy.ledger[0].policy).Statement[1].Action == ["kms:GenerateMac", "kms:VerifyMac"]
    )
    error_message = "Only operator_role_arns may sign and verify ledger entries."
  }
  assert {
    condition = (
      aws_dynamodb_table.ledger[0].server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/ledger-table" &&
      one([for st in jsondecode(output.doctor_policy_json).Statement : st.Resource if st.Sid == "ReadTheLedgerThroughItsKey"]) == ["arn:aws:kms:eu-west-1:123456789012:key/ledger-table"]
    )
    error_message = "The ledger table is encrypted with the customer key, which the doctor reads through."
  }
}

run "without_operators_nobody_can_sign_the_ledger" {
  command = plan
  module {
    source = "./modules/operator"
  }

  variables {
    consumers = { default = { function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:pipeline" } }
  }

  assert {
    condition = (
      length(jsondecode(aws_kms_key_policy.ledger[0].policy).Statement) == 1 &&
      !anytrue([for st in jsondecode(aws_kms_key_policy.ledger[0].policy).Statement : contains(flatten([st.Action]), "kms:GenerateMac")])
    )
    error_message = "No operator named: no principal may MAC (redrive says to set operator_role_arns)."
  }
}

run "operator_role_arns_are_role_or_user_arns" {
  command = plan

  variables {
    operator_role_arns = ["arn:aws:iam::123456789012:role/*"]
  }

  expect_failures = [var.operator_role_arns]
}

run "the_root_passes_the_mandates_to_every_consumer" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    role_path                 = "/stream-pipeline/"
    operator_role_arns        = ["arn:aws:iam::123456789012:role/oncall"]
    function                  = { log_format = "JSON", vpc_subnet_ids = ["subnet-0a"], vpc_security_group_ids = ["sg-0c"] }
    consumers                 = { archive = { function = { record_processor = "archive" } } }
  }

  assert {
    condition     = alltrue([for c in module.consumer : contains([for st in jsondecode(c.role_policy_json).Statement : st.Sid], "CreateNetworkInterfacesInTheseSubnets")])
    error_message = "Each consumer, the inheriting entry too, gets its network permissions (tests/consumer reads the boundary, path, VPC and logs of every role and function in a plan)."
  }
}

run "a_boundary_is_a_managed_policy_arn" {
  command = plan

  variables {
    role_permissions_boundary = "boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "a_role_path_begins_and_ends_with_a_slash" {
  command = plan

  variables {
    role_path = "stream-pipeline"
  }

  expect_failures = [var.role_path]
}

run "a_vpc_needs_subnets_and_security_groups" {
  command = plan

  variables {
    function = { vpc_subnet_ids = ["subnet-0a"] }
  }

  expect_failures = [var.function]
}

run "vpc_config_inside_function_is_refused_rather_than_dropped" {
  command = plan

  variables {
    function = { vpc_config = { subnet_ids = ["subnet-0a"], security_group_ids = ["sg-0c"] } }
  }

  expect_failures = [var.function]
}

run "a_boundary_inside_a_consumers_function_is_refused_rather_than_dropped" {
  command = plan

  variables {
    consumers = { archive = { function = { permissions_boundary = "arn:aws:iam::123456789012:policy/boundary" } } }
  }

  expect_failures = [var.function]
}

run "a_consumers_entry_is_checked_like_the_top_level_function" {
  command = plan

  variables {
    consumers = { archive = { function = { memory_mb = 64 } } }
  }

  expect_failures = [var.function]
}

run "a_consumers_entry_is_checked_like_the_top_level_mapping" {
  command = plan

  variables {
    consumers = { archive = { event_source_mapping = { batch_size = 0 } } }
  }

  expect_failures = [var.event_source_mapping]
}

run "a_consumers_entry_is_checked_like_the_top_level_sink" {
  command = plan

  variables {
    consumers = { archive = { sink = { billing_mode = "ON_DEMAND" } } }
  }

  expect_failures = [var.sink]
}

run "a_consumers_entrys_failure_destination_is_checked" {
  command = plan

  variables {
    consumers = { archive = { on_failure_destination = "sns" } }
  }

  expect_failures = [var.on_failure_destination]
}

run "a_consumer_key_that_repeats_the_stacks_own_suffix_is_refused" {
  command = plan

  variables {
    consumers = { consumer = {} }
  }

  expect_failures = [var.consumers]
}

run "a_consumer_key_that_makes_the_names_too_long_is_refused" {
  command = plan

  variables {
    name      = "a-pipeline-name-of-forty-five-characters-long"
    consumers = { archive-of-orders = {} }
  }

  expect_failures = [var.consumers]
}

run "a_wildcard_partition_is_refused" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:*"] }] }
  }

  expect_failures = [var.function]
}

run "a_wildcard_region_and_account_are_refused" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:*:*:table/*"] }] }
  }

  expect_failures = [var.function]
}

run "a_wildcard_service_is_refused" {
  command = plan

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:aws:*:eu-west-1:123456789012:table/orders"] }] }
  }

  expect_failures = [var.function]
}

run "a_wildcard_account_in_a_consumers_statement_is_refused" {
  command = plan

  variables {
    consumers = { archive = { function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:eu-west-1:*:table/orders"] }] } } }
  }

  expect_failures = [var.function]
}

run "the_consumer_module_alone_refuses_a_wildcard_region_too" {
  command = plan
  module {
    source = "./modules/consumer"
  }

  variables {
    function = { policy_statements = [{ sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:*:123456789012:table/orders"] }] }
  }

  expect_failures = [var.function]
}

run "resource_wildcards_within_named_fields_are_accepted" {
  command = plan

  variables {
    function = {
      policy_statements = [
        { sid = "ReadTheBucket", actions = ["s3:GetObject"], resources = ["arn:aws:s3:::team-bucket/orders/*"] },
        { sid = "QueryTheIndex", actions = ["dynamodb:Query"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/*"] },
      ]
    }
  }

  assert {
    condition     = contains([for st in jsondecode(module.consumer["default"].role_policy_json).Statement : st.Sid], "QueryTheIndex")
    error_message = "A wildcard within a named table or bucket is least privilege enough (S3 ARNs have no region or account)."
  }
}

run "an_email_entry_is_checked" {
  command = plan

  variables {
    alarms = { email_addresses = ["oncall@example.com", "oncall at example.com"] }
  }

  expect_failures = [var.alarms]
}

run "a_topic_of_yours_needs_create_sns_topic_false" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall" }
  }

  expect_failures = [var.alarms]
}

run "a_topic_of_yours_is_notified" {
  command = plan

  variables {
    alarms = { create_sns_topic = false, sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall" }
  }

  assert {
    condition     = output.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:oncall" && output.stream_pipeline.sns_topic_arn == output.sns_topic_arn
    error_message = "create_sns_topic = false: the alarms notify the topic given."
  }
}
