locals {
  kinesis  = var.enabled && var.source_type == "kinesis"
  dynamodb = var.enabled && var.source_type == "dynamodb"
  # What to create is decided by booleans known at plan, never by whether an ARN is null: an ARN of
  # a resource declared beside this module is unknown until apply, and a count cannot wait for it.
  create_stream = local.kinesis && var.kinesis.create_stream
  create_table  = local.dynamodb && var.dynamodb.create_table
  provisioned   = var.kinesis.stream_mode == "PROVISIONED"
  # A created provisioned stream has 1 shard unless told; an existing stream's count is given
  # (required); an on-demand stream has none to give (it starts with 4 and changes on its own).
  shard_count = !var.kinesis.create_stream ? var.kinesis.shard_count : (local.provisioned ? coalesce(var.kinesis.shard_count, 1) : null)
  # Who reads through a registered consumer (enhanced fan-out), and who shares the read budget.
  consumer_keys = length(var.consumers) > 0 ? keys(var.consumers) : ["default"]
  efo_keys      = local.kinesis ? [for key in local.consumer_keys : key if(length(var.consumers) > 0 ? var.consumers[key].enhanced_fan_out : var.kinesis.enhanced_fan_out)] : []
  shared_keys   = [for key in local.consumer_keys : key if !contains(local.efo_keys, key)]

  # The stream every consumer reads (what its role may read): created here, or given.
  stream_arn = (
    local.create_stream ? aws_kinesis_stream.this[0].arn :
    local.kinesis ? var.kinesis.existing_stream_arn :
    local.create_table ? aws_dynamodb_table.this[0].stream_arn :
    local.dynamodb ? var.dynamodb.existing_stream_arn : null
  )

  # arn:aws:kinesis:REGION:ACCOUNT:stream/NAME and arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
  existing_kinesis_name = var.kinesis.existing_stream_arn == null ? null : regex("^arn:[^:]+:kinesis:[^:]+:[0-9]+:stream/(.+)$", var.kinesis.existing_stream_arn)[0]
  existing_stream_parts = var.dynamodb.existing_stream_arn == null ? null : regex(
    "^arn:[^:]+:dynamodb:[^:]+:[0-9]+:table/([^/]+)/stream/(.+)$", var.dynamodb.existing_stream_arn
  )
}

resource "aws_kinesis_stream" "this" {
  count = local.create_stream ? 1 : 0

  name                      = var.name
  shard_count               = local.shard_count
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

# The read budget, checked at plan. Kinesis (seed 002): shared consumers take turns at each shard's
# 5 GetRecords per second, and Lambda polls every shard once a second per mapping, so a sixth is
# throttled for good; at most 20 registered (enhanced fan-out) consumers per stream. DynamoDB
# Streams: AWS advises at most two readers per shard; more are throttled.
resource "terraform_data" "read_budget" {
  count = var.enabled ? 1 : 0

  input = { shared = local.shared_keys, enhanced_fan_out = local.efo_keys }

  lifecycle {
    precondition {
      condition     = !local.kinesis || length(local.shared_keys) <= 5
      error_message = "${length(local.shared_keys)} consumers share the stream's read throughput (${join(", ", local.shared_keys)}), but a shard serves 5 GetRecords calls a second and Lambda polls it once a second per consumer: give some of them enhanced_fan_out = true (dedicated throughput), or fewer consumers.${var.kinesis.create_stream ? "" : " (This counts this stack's consumers only; the existing stream's other readers share the same budget.)"}"
    }
    precondition {
      condition     = length(local.efo_keys) <= 20
      error_message = "Kinesis registers at most 20 enhanced fan-out consumers per stream; ${length(local.efo_keys)} ask for one."
    }
    precondition {
      condition     = !local.dynamodb || !anytrue([for c in values(var.consumers) : c.enhanced_fan_out])
      error_message = "DynamoDB Streams has no enhanced fan-out: set enhanced_fan_out only for consumers of a Kinesis stream."
    }
    precondition {
      condition     = !local.dynamodb || length(local.consumer_keys) <= 2
      error_message = "${length(local.consumer_keys)} consumers would read the table's stream (${join(", ", local.consumer_keys)}), but AWS advises at most two readers per DynamoDB Streams shard (more are throttled), and DynamoDB Streams has no enhanced fan-out: use a Kinesis stream (kinesis_stream_destination) for more."
    }
  }
}

# The default consumer keeps the name it had (<name>-consumer); the others are named after their key.
resource "aws_kinesis_stream_consumer" "this" {
  for_each = toset(local.efo_keys)

  name       = each.key == "default" ? "${var.name}-consumer" : "${var.name}-${each.key}"
  stream_arn = local.stream_arn
}

moved {
  from = aws_kinesis_stream_consumer.this[0]
  to   = aws_kinesis_stream_consumer.this["default"]
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
