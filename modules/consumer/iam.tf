# Least privilege: every statement names this pipeline's resources only. The policy is built with
# jsonencode (not aws_iam_policy_document) so that `terraform test` can read the real document.

locals {
  kms_decrypt = compact([var.stream_kms_key_arn])
  kms_encrypt = distinct(compact([var.on_failure_queue_kms_key_arn, local.create_sink ? var.sink.kms_key_arn : null]))
  efo         = local.kinesis && var.event_source_arn != var.stream_arn

  statements = local.enabled ? concat(
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
    # The mapping writes the failure archive with the function's role: objects in, and the listing
    # Lambda checks the bucket with; nothing else.
    [for _ in [1] : {
      Sid      = "WriteTheFailureArchive"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${aws_s3_bucket.on_failure[0].arn}/*"]
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
    [for keys in [local.kms_decrypt] : {
      Sid      = "DecryptTheStreamKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = keys
    } if length(keys) > 0],
    [for keys in [local.kms_encrypt] : {
      Sid      = "UseTheQueueAndSinkKeys"
      Effect   = "Allow"
      Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource = keys
    } if length(keys) > 0],
    # A processor of your own that reads or writes elsewhere: the caller's statements, no wildcards.
    [for st in var.function.policy_statements : {
      Sid      = st.sid
      Effect   = "Allow"
      Action   = st.actions
      Resource = st.resources
    }],
    [for _ in [1] : {
      # X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: "*" only.
      Sid      = "SendTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"]
    } if var.function.tracing],
  ) : []
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

  name = local.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = local.enabled ? 1 : 0

  name   = "${var.name}-pipeline"
  role   = aws_iam_role.this[0].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}
