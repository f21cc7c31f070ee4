# A platform team's root module: its own stream (or another stack's), alarm topic, keys, network,
# permissions boundary and operator role, declared here and passed to the module by reference. The
# ARNs and IDs are unknown until apply; the module decides what to create from booleans known at
# plan (kinesis.create_stream, alarms.create_sns_topic), so this plans and applies in one go.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Project = "terraform-aws-stream-pipeline", Example = "bring-your-own" }
  }
}

locals {
  # The stream of another stack (existing_stream_arn), or the team's own, declared below.
  own_stream = var.existing_stream_arn == null
  stream_arn = local.own_stream ? aws_kinesis_stream.events[0].arn : var.existing_stream_arn
  # The account, from the key's own ARN: no sts:GetCallerIdentity, so this plans offline too.
  account_id = split(":", aws_kms_key.data.arn)[4]
}

# One customer key for the team's data at rest: the stream, the failure archive, the sink, the
# redrive ledger and the logs. The account administers it; the roles use it through each service
# (the module grants them that, kms:ViaService), and CloudWatch Logs may encrypt the log groups.
resource "aws_kms_key" "data" {
  description             = "${var.name}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_key_policy" "data" {
  key_id = aws_kms_key.data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersAndDelegatesToIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${var.name}*" } }
      },
    ]
  })
}

resource "aws_kinesis_stream" "events" {
  count = local.own_stream ? 1 : 0

  name             = "${var.name}-events"
  shard_count      = var.shard_count
  retention_period = 24
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.data.arn
}

# The team's pager, encrypted with a key CloudWatch alarms may use, published to by CloudWatch.
resource "aws_kms_key" "pager" {
  description             = "${var.name}: the pager topic"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_key_policy" "pager" {
  key_id = aws_kms_key.pager.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersAndDelegatesToIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_sns_topic" "pager" {
  name              = "${var.name}-pager"
  kms_master_key_id = aws_kms_key.pager.arn
}

resource "aws_sns_topic_policy" "pager" {
  arn = aws_sns_topic.pager.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ThisAccountsAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.pager.arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

# The network the account mandates: private subnets, a security group that only lets the function
# reach out (to its sink through a DynamoDB gateway endpoint, to the AWS APIs through NAT or
# interface endpoints: yours to add to the VPC you use).
resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:An example VPC standing for the account's own; its flow logs are the network team's.
  cidr_block = "10.42.0.0/16"
}

resource "aws_default_security_group" "this" {
  # No rule: nothing may use the VPC's default group.
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet("10.42.0.0/16", 8, count.index)
  availability_zone = "${var.region}${["a", "b"][count.index]}"
}

resource "aws_security_group" "functions" {
  #checkov:skip=CKV2_AWS_5:Attached to the functions through the module's function.vpc_security_group_ids, which checkov cannot follow.
  name        = "${var.name}-functions"
  description = "The pipeline functions: outbound HTTPS only"
  vpc_id      = aws_vpc.this.id

  egress {
    description = "HTTPS to the AWS APIs (DynamoDB, CloudWatch) through endpoints or NAT"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# The boundary every role of the account must carry: here, the most the pipeline's roles may ever
# do (their own policies grant less).
resource "aws_iam_policy" "boundary" {
  #checkov:skip=CKV_AWS_290:A permissions boundary caps the actions a role can ever have; the roles' own policies name the resources.
  #checkov:skip=CKV_AWS_355:A permissions boundary caps the actions a role can ever have; the roles' own policies name the resources.
  name = "${var.name}-boundary"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "StreamPipelineAtMost"
      Effect = "Allow"
      Action = [
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator",
        "kinesis:ListShards", "kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard", "dynamodb:GetItem",
        "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem", "sqs:SendMessage", "s3:PutObject",
        "s3:ListBucket", "logs:CreateLogStream", "logs:PutLogEvents", "kms:Decrypt", "kms:GenerateDataKey",
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
      ]
      Resource = "*"
    }]
  })
}

# The role the team's on-call assumes to run `stream-pipeline redrive --apply`: the only principal
# the redrive ledger's key lets sign and verify ledger entries.
resource "aws_iam_role" "operator" {
  name = "${var.name}-operator"
  path = "/stream-pipeline/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = "arn:aws:iam::${local.account_id}:root" }
    }]
  })
}

resource "aws_iam_role_policy" "operator" {
  name   = "stream-pipeline-redrive"
  role   = aws_iam_role.operator.id
  policy = module.pipeline.operator_policies.redrive
}

module "pipeline" {
  source = "../.."

  name = var.name

  kinesis = {
    create_stream       = false
    existing_stream_arn = local.stream_arn
    shard_count         = var.shard_count
    retention_hours     = 24
    kms_key_arn         = local.own_stream ? aws_kms_key.data.arn : null
    # Its own 2 MiB/s per shard, so the stream's owner keeps its read budget.
    enhanced_fan_out = var.enhanced_fan_out
  }

  function = {
    record_processor       = "archive"
    log_format             = "JSON"
    log_kms_key_arn        = aws_kms_key.data.arn
    vpc_subnet_ids         = aws_subnet.private[*].id
    vpc_security_group_ids = [aws_security_group.functions.id]
  }

  # The records themselves, kept after the stream has dropped them, under the team's key.
  on_failure_destination           = "s3"
  on_failure_archive_kms_key_arn   = aws_kms_key.data.arn
  on_failure_archive_force_destroy = var.local_emulator
  sink                             = { kms_key_arn = aws_kms_key.data.arn }
  redrive_ledger_kms_key_arn       = aws_kms_key.data.arn
  operator_role_arns               = [aws_iam_role.operator.arn]
  role_permissions_boundary        = aws_iam_policy.boundary.arn
  role_path                        = "/stream-pipeline/"

  alarms = {
    create_sns_topic = false
    sns_topic_arn    = aws_sns_topic.pager.arn
    email_addresses  = var.alarm_emails
    period_seconds   = var.alarm_period_seconds
    local_emulator   = var.local_emulator
  }

  tags = { Team = var.name }
}
