locals {
  kinesis      = var.enabled && var.source_type == "kinesis"
  dynamodb     = var.enabled && var.source_type == "dynamodb"
  create_table = local.dynamodb && var.dynamodb.existing_stream_arn == null
  provisioned  = var.kinesis.stream_mode == "PROVISIONED"

  # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
  existing_stream_parts = var.dynamodb.existing_stream_arn == null ? null : regex(
    "^arn:[^:]+:dynamodb:[^:]+:[0-9]+:table/([^/]+)/stream/(.+)$", var.dynamodb.existing_stream_arn
  )
}

resource "aws_kinesis_stream" "this" {
  count = local.kinesis ? 1 : 0

  name                      = var.name
  shard_count               = local.provisioned ? var.kinesis.shard_count : null
  retention_period          = var.kinesis.retention_hours
  shard_level_metrics       = var.kinesis.shard_level_metrics
  encryption_type           = "KMS"
  kms_key_id                = coalesce(var.kinesis.kms_key_arn, "alias/aws/kinesis")
  enforce_consumer_deletion = true

  stream_mode_details {
    stream_mode = var.kinesis.stream_mode
  }

  tags = var.tags
}

resource "aws_kinesis_stream_consumer" "this" {
  count = local.kinesis && var.kinesis.enhanced_fan_out ? 1 : 0

  name       = "${var.name}-consumer"
  stream_arn = aws_kinesis_stream.this[0].arn
}

resource "aws_dynamodb_table" "this" {
  count = local.create_table ? 1 : 0

  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on by default (dynamodb.point_in_time_recovery); checkov cannot read optional() defaults.
  #checkov:skip=CKV2_AWS_16:On-demand by default, which needs no auto scaling; PROVISIONED is an explicit, sized choice.
  name                        = var.name
  billing_mode                = var.dynamodb.billing_mode
  read_capacity               = var.dynamodb.billing_mode == "PROVISIONED" ? var.dynamodb.read_capacity : null
  write_capacity              = var.dynamodb.billing_mode == "PROVISIONED" ? var.dynamodb.write_capacity : null
  hash_key                    = var.dynamodb.hash_key
  range_key                   = var.dynamodb.range_key
  stream_enabled              = true
  stream_view_type            = var.dynamodb.stream_view_type
  deletion_protection_enabled = var.dynamodb.deletion_protection

  attribute {
    name = var.dynamodb.hash_key
    type = var.dynamodb.hash_key_type
  }

  dynamic "attribute" {
    for_each = var.dynamodb.range_key == null ? [] : [var.dynamodb.range_key]
    content {
      name = attribute.value
      type = var.dynamodb.range_key_type
    }
  }

  point_in_time_recovery {
    enabled = var.dynamodb.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.dynamodb.kms_key_arn
  }

  tags = var.tags
}
