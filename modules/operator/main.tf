# What the people who run the pipeline need: the redrive ledger (a table the function can never
# write, each item signed with a KMS HMAC key the function can never use) and the least-privilege
# policies of the operator commands (`stream-pipeline doctor`, read-only; `stream-pipeline redrive`),
# published as JSON for your operators' roles. tests/integration records every AWS call the commands
# make and checks it against these documents.

data "aws_region" "current" {}

locals {
  enabled   = var.enabled
  kinesis   = var.source_type == "kinesis"
  region    = data.aws_region.current.id
  functions = [for c in values(var.consumers) : c.function_arn]
  # Account and partition from a function's ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME).
  arn_parts = length(local.functions) > 0 ? split(":", local.functions[0]) : []
  partition = try(local.arn_parts[1], "aws")
  account   = try(local.arn_parts[4], null)

  queues  = [for c in values(var.consumers) : c.on_failure_destination_arn if try(startswith(c.on_failure_destination_arn, "arn:${local.partition}:sqs:"), false)]
  buckets = [for c in values(var.consumers) : c.on_failure_destination_arn if try(startswith(c.on_failure_destination_arn, "arn:${local.partition}:s3:::"), false)]
  sinks   = compact([for c in values(var.consumers) : c.sink_table_arn])
  logs    = compact([for c in values(var.consumers) : c.log_group_arn])
  efo     = [for c in values(var.consumers) : c.event_source_arn if c.event_source_arn != null && c.event_source_arn != var.stream_arn]
  q_keys  = distinct(compact([for c in values(var.consumers) : c.on_failure_queue_kms_key_arn]))
  s_keys  = compact([var.stream_kms_key_arn])
  ledger  = try(aws_dynamodb_table.ledger[0].arn, null)
  mac_key = try(aws_kms_key.ledger[0].arn, null)
  # Customer keys of the ledger table and of the failure archives, if any (the AWS-managed keys need
  # no grant): what the operators' reads go through.
  ledger_table_keys = compact([var.ledger_kms_key_arn])
  archive_keys      = distinct(compact([for c in values(var.consumers) : c.on_failure_archive_key_arn]))
  alarms            = local.account == null ? null : "arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*"
  dashboard         = local.account == null ? null : "arn:${local.partition}:cloudwatch::${local.account}:dashboard/${var.name}-*"
}

resource "aws_dynamodb_table" "ledger" {
  count = local.enabled ? 1 : 0

  #checkov:skip=CKV2_AWS_16:On-demand: no capacity to scale.
  #checkov:skip=CKV_AWS_119:The AWS-managed key by default (the items hold keys, states and MACs, never payloads); a customer key through ledger_kms_key_arn (the root's redrive_ledger_kms_key_arn).
  name         = "${var.name}-redrive-ledger"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.ledger_kms_key_arn
  }

  tags = var.tags
}

resource "aws_kms_key" "ledger" {
  count = local.enabled ? 1 : 0

  #checkov:skip=CKV_AWS_7:KMS rotates symmetric encryption keys only; an HMAC key cannot be rotated automatically.
  description              = "Signs the ${var.name} redrive ledger (HMAC): an item redrive did not write does not verify."
  customer_master_key_spec = "HMAC_256"
  key_usage                = "GENERATE_VERIFY_MAC"
  deletion_window_in_days  = 7
  tags                     = var.tags
}

locals {
  key_arn_parts = local.enabled ? split(":", aws_kms_key.ledger[0].arn) : []
  # Everything but using the key (and granting its use): describe, tag, alias, enable, disable, the
  # key policy, deletion. KMS refuses a key policy that would leave nobody able to change it.
  key_administration = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:PutKeyPolicy", "kms:ListResourceTags", "kms:TagResource",
    "kms:UntagResource", "kms:UpdateKeyDescription", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:ListGrants",
    "kms:RevokeGrant",
  ]
}

resource "aws_kms_key_policy" "ledger" {
  count = local.enabled ? 1 : 0

  # Who may sign and verify is the key policy's, not IAM's: the account (through IAM) keeps the
  # administration of the key, but no statement delegates kms:GenerateMac or kms:VerifyMac to it, so
  # no IAM policy can grant them (AdministratorAccess included) and no grant can be made (no
  # kms:CreateGrant); only the principals named in operator_role_arns may. An administrator can still
  # rewrite this policy (kms:PutKeyPolicy, which KMS requires the account to keep): a deliberate,
  # logged change, not a quiet forgery. The function's role is also denied the key by the consumer
  # module.
  key_id = aws_kms_key.ledger[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "AccountAdministersTheKeyOnly"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.key_arn_parts[1]}:iam::${local.key_arn_parts[4]}:root" }
        Action    = local.key_administration
        Resource  = "*" # In a key policy, "*" means this key.
      }],
      [for arns in [var.operator_role_arns] : {
        Sid       = "OperatorsSignAndVerifyTheLedger"
        Effect    = "Allow"
        Principal = { AWS = arns }
        Action    = ["kms:GenerateMac", "kms:VerifyMac"]
        Resource  = "*"
      } if length(arns) > 0],
    )
  })
}

resource "aws_kms_alias" "ledger" {
  count = local.enabled ? 1 : 0

  name          = "alias/${var.name}-redrive-ledger"
  target_key_id = aws_kms_key.ledger[0].key_id
}

locals {
  # One statement per purpose, every resource this stack's own. Actions that AWS authorizes on "*"
  # only (no resource-level permission) say so. (Read only when enabled: the output is null otherwise.)
  doctor_statements = concat(
    [
      {
        Sid      = "ReadTheFunctions"
        Effect   = "Allow"
        Action   = ["lambda:GetFunctionConfiguration", "lambda:GetFunctionConcurrency"]
        Resource = local.functions
      },
      {
        # ListEventSourceMappings and GetAccountSettings have no resource-level permission.
        Sid      = "ReadTheMappingsAndTheAccountConcurrency"
        Effect   = "Allow"
        Action   = ["lambda:ListEventSourceMappings", "lambda:GetAccountSettings"]
        Resource = ["*"]
      },
      {
        # GetMetricData, GetMetricStatistics and DescribeAlarms have no resource-level permission.
        Sid      = "ReadTheMetricsAndAlarms"
        Effect   = "Allow"
        Action   = ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:DescribeAlarms"]
        Resource = ["*"]
      },
      {
        # DescribeLogGroups is authorized on the account's log groups, not one.
        Sid      = "ReadTheLogGroups"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = ["arn:${local.partition}:logs:${local.region}:${coalesce(local.account, "*")}:log-group:*"]
      },
      {
        # The open failures redrive noted, for their age (the doctor does not verify their MACs: an
        # entry can only make a failure older, never hide one the queue shows).
        Sid      = "ReadTheOpenFailuresInTheLedger"
        Effect   = "Allow"
        Action   = ["dynamodb:Query"]
        Resource = [local.ledger]
      },
    ],
    [for keys in [local.ledger_table_keys] : {
      Sid       = "ReadTheLedgerThroughItsKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    [for _ in [1] : {
      Sid      = "ReadTheStream"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStreamSummary", "kinesis:ListStreamConsumers"]
      Resource = [var.stream_arn]
    } if local.kinesis && var.stream_arn != null],
    [for arns in [local.efo] : {
      Sid      = "ReadTheEnhancedFanOutConsumers"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStreamConsumer"]
      Resource = arns
    } if length(arns) > 0],
    [for _ in [1] : {
      Sid      = "ReadTheTableStream"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream"]
      Resource = [var.stream_arn]
    } if !local.kinesis && var.stream_arn != null],
    [for arns in [local.sinks] : {
      Sid      = "ReadTheSinks"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeTable"]
      Resource = arns
    } if length(arns) > 0],
    [for arns in [local.queues] : {
      Sid      = "ReadTheFailureQueues"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
      Resource = arns
    } if length(arns) > 0],
    [for arns in [local.buckets] : {
      # The archived failures, and the expiration their age is weighed against.
      Sid      = "ListTheFailureArchives"
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetLifecycleConfiguration"]
      Resource = arns
    } if length(arns) > 0],
    [for _ in [1] : {
      Sid      = "ReadTheAlarmTopic"
      Effect   = "Allow"
      Action   = ["sns:ListSubscriptionsByTopic"]
      Resource = [var.sns_topic_arn]
    } if var.sns_topic_arn != null],
  )

  redrive_statements = local.enabled ? concat(
    [
      {
        # Redrive re-delivers a failed record to its consumer's own function (Invoke, with Lambda's
        # event), never into the stream.
        Sid      = "ReadAndInvokeTheFunctions"
        Effect   = "Allow"
        Action   = ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"]
        Resource = local.functions
      },
      {
        # The stream and the failure destination come from each function's live mapping.
        # ListEventSourceMappings has no resource-level permission.
        Sid      = "ReadTheMappings"
        Effect   = "Allow"
        Action   = ["lambda:ListEventSourceMappings"]
        Resource = ["*"]
      },
      {
        Sid      = "KeepTheLedger"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
        Resource = [local.ledger]
      },
      {
        Sid      = "SignAndVerifyTheLedger"
        Effect   = "Allow"
        Action   = ["kms:GenerateMac", "kms:VerifyMac"]
        Resource = [local.mac_key]
      },
    ],
    [for _ in [1] : {
      # The stream is the source of truth: a failure's records are read from it, never written to it.
      Sid      = "ReadTheStream"
      Effect   = "Allow"
      Action   = ["kinesis:GetShardIterator", "kinesis:GetRecords"]
      Resource = [var.stream_arn]
    } if local.kinesis && var.stream_arn != null],
    [for _ in [1] : {
      Sid      = "ReadTheTableStream"
      Effect   = "Allow"
      Action   = ["dynamodb:GetShardIterator", "dynamodb:GetRecords"]
      Resource = [var.stream_arn]
    } if !local.kinesis && var.stream_arn != null],
    [for arns in [local.queues] : {
      Sid      = "WorkTheFailureQueues"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
      Resource = arns
    } if length(arns) > 0],
    [for arns in [local.buckets] : {
      # The archived failures; for --from-archive, whether the bucket is versioned and an object was
      # written once.
      Sid      = "ListTheFailureArchives"
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetBucketVersioning", "s3:ListBucketVersions"]
      Resource = arns
    } if length(arns) > 0],
    [for arns in [local.buckets] : {
      # Read what Lambda archived, and move a resolved failure under redriven/.
      Sid      = "WorkTheFailureArchives"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = flatten([for arn in arns : ["${arn}/aws/lambda/*", "${arn}/redriven/*"]])
    } if length(arns) > 0],
    [for keys in [local.s_keys] : {
      Sid       = "UseTheStreamKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "${local.kinesis ? "kinesis" : "dynamodb"}.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    [for keys in [local.q_keys] : {
      Sid       = "UseTheQueueKeys"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
  ) : []
}
