# Least privilege: every statement names this pipeline's resources only. The policy is built with
# jsonencode (not aws_iam_policy_document) so that `terraform test` can read the real document.

locals {
  kms_decrypt  = compact([var.stream_kms_key_arn])
  kms_queue    = compact([local.archive ? null : var.on_failure_queue_kms_key_arn])
  kms_sink     = compact([local.create_sink ? var.sink.kms_key_arn : null])
  kms_archive  = compact([local.archive ? var.on_failure_archive_kms_key_arn : null])
  efo          = local.kinesis && var.event_source_arn != var.stream_arn
  ledger       = compact([var.redrive_ledger_table_arn])
  ledger_key   = compact([var.redrive_ledger_key_arn])
  stream_store = local.kinesis ? "kinesis" : "dynamodb"
  # The function's account and partition, for the trust policy and the network interfaces: from its
  # log group's ARN (never the stream's, which may be another account's), so no sts call is needed.
  log_group_arn = local.enabled ? split(":", aws_cloudwatch_log_group.this[0].arn) : []
  account_id    = try(local.log_group_arn[4], null)
  partition     = try(local.log_group_arn[1], "aws")
  # What Lambda's network interfaces for the VPC may be created in and attached to (the subnets may
  # be another account's, shared with this one, so their account is not assumed).
  eni_arn = "arn:${local.partition}:ec2:${local.region}:${coalesce(local.account_id, "*")}:network-interface/*"
  eni_place = concat(
    [for id in var.function.vpc_subnet_ids : "arn:${local.partition}:ec2:${local.region}:*:subnet/${id}"],
    [for id in var.function.vpc_security_group_ids : "arn:${local.partition}:ec2:${local.region}:*:security-group/${id}"],
  )

  # Each statement as JSON: some carry a Condition and some do not, and a conditional needs one type.
  statements = local.enabled ? [for statement in concat(
    [for _ in [1] : {
      Sid      = "ReadThisStream"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
      Resource = [var.stream_arn]
    } if local.kinesis],
    [for _ in [1] : {
      # Enhanced fan-out: the mapping subscribes through the registered consumer.
      Sid      = "SubscribeThroughThisConsumer"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
      Resource = [var.event_source_arn]
    } if local.efo],
    [for _ in [1] : {
      Sid      = "ReadThisTableStream"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      Resource = [var.stream_arn]
    } if !local.kinesis],
    [for _ in [1] : {
      # dynamodb:ListStreams has no resource-level permission: AWS accepts only "*" for it.
      Sid      = "ListTableStreams"
      Effect   = "Allow"
      Action   = ["dynamodb:ListStreams"]
      Resource = ["*"]
    } if !local.kinesis],
    [for _ in [1] : {
      Sid      = "WriteTheSink"
      Effect   = "Allow"
      Action   = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"]
      Resource = [aws_dynamodb_table.sink[0].arn]
    } if local.create_sink],
    [for _ in [1] : {
      Sid      = "SendFailuresToTheQueue"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.on_failure[0].arn]
    } if !local.archive],
    # The mapping writes the failure archive with the function's role: objects in, under the prefix
    # Lambda writes (aws/lambda/<mapping UUID>/...), and the listing Lambda checks the bucket with.
    [for _ in [1] : {
      Sid      = "WriteTheFailureArchive"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${aws_s3_bucket.on_failure[0].arn}/aws/lambda/*"]
    } if local.archive],
    [for _ in [1] : {
      Sid      = "ListTheFailureArchive"
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = [aws_s3_bucket.on_failure[0].arn]
    } if local.archive],
    [
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this[0].arn}:*"]
      },
    ],
    # Customer keys, each only through the service it encrypts (kms:ViaService).
    [for keys in [local.kms_decrypt] : {
      Sid       = "DecryptTheStreamKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "${local.stream_store}.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    [for keys in [local.kms_queue] : {
      Sid       = "UseTheQueueKey"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    [for keys in [local.kms_sink] : {
      Sid       = "UseTheSinkKey"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    # The archive's objects are encrypted with the data key S3 gets for the put (Decrypt: for a put
    # S3 makes in parts); the role may not read the archive, so it can decrypt nothing there.
    [for keys in [local.kms_archive] : {
      Sid       = "UseTheArchiveKey"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = keys
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    } if length(keys) > 0],
    # In a VPC, Lambda creates and manages the function's network interfaces with its role
    # (AWSLambdaVPCAccessExecutionRole's actions, each on what it touches). Describe* has no
    # resource-level permission: "*" only.
    [for _ in [1] : {
      Sid      = "DescribeTheNetwork"
      Effect   = "Allow"
      Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
      Resource = ["*"]
    } if local.vpc],
    [for _ in [1] : {
      Sid      = "CreateNetworkInterfacesInTheseSubnets"
      Effect   = "Allow"
      Action   = ["ec2:CreateNetworkInterface"]
      Resource = concat([local.eni_arn], local.eni_place)
    } if local.vpc],
    [for _ in [1] : {
      Sid      = "ManageTheNetworkInterfaces"
      Effect   = "Allow"
      Action   = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      Resource = [local.eni_arn]
    } if local.vpc],
    # A processor of your own that reads or writes elsewhere: the caller's statements, no wildcards.
    [for st in var.function.policy_statements : {
      Sid      = st.sid
      Effect   = "Allow"
      Action   = st.actions
      Resource = st.resources
    }],
    # The redrive ledger is the operator's record of what came back: the function must never write
    # it, whatever else its role is granted (an explicit deny wins over any allow, a managed policy
    # attached later included). Every data-plane action and every change to the table or the key is
    # named, rather than a wildcard, so that the policy tier can hold every action to be named.
    [for arns in [local.ledger] : {
      Sid    = "NeverTheRedriveLedger"
      Effect = "Deny"
      Action = [
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
        "dynamodb:GetItem", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLUpdate", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
        "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:RestoreTableToPointInTime",
      ]
      Resource = concat(arns, [for arn in arns : "${arn}/*"])
    } if length(arns) > 0],
    [for arns in [local.ledger_key] : {
      Sid    = "NeverTheRedriveLedgerKey"
      Effect = "Deny"
      Action = [
        "kms:GenerateMac", "kms:VerifyMac", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
        "kms:DisableKey", "kms:UpdateKeyDescription",
      ]
      Resource = arns
    } if length(arns) > 0],
    [for _ in [1] : {
      # X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: "*" only.
      Sid      = "SendTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"]
    } if var.function.tracing],
  ) : jsonencode(statement)] : []
}

data "aws_region" "current" {}

locals {
  # IAM is global: the region in the name lets the same pipeline name live in two regions. Within
  # IAM's 64 characters; a long name is cut and kept unique with a hash of the whole.
  region    = data.aws_region.current.id
  role_full = "${var.name}-${local.region}"
  role_name = length(local.role_full) <= 64 ? local.role_full : "${substr(var.name, 0, 64 - length(local.region) - 8)}-${substr(sha1(var.name), 0, 6)}-${local.region}"
}

resource "aws_iam_role" "this" {
  count = local.enabled ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [merge(
      {
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "lambda.amazonaws.com" }
      },
      # Only Lambda acting for this account may assume it (confused-deputy prevention).
      { Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } } },
    )]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = local.enabled ? 1 : 0

  name   = "${var.name}-pipeline"
  role   = aws_iam_role.this[0].id
  policy = "{\"Version\":\"2012-10-17\",\"Statement\":[${join(",", local.statements)}]}"
}
