output "source_type" {
  description = "`kinesis` or `dynamodb`."
  value       = var.source_type
}

output "event_source_arns" {
  description = "What each consumer's event source mapping reads, by consumer key: its enhanced fan-out consumer, or the stream."
  value = {
    for key in local.consumer_keys : key => try(aws_kinesis_stream_consumer.this[key].arn, try(coalesce(
      try(aws_kinesis_stream.this[0].arn, null),
      try(aws_dynamodb_table.this[0].stream_arn, null),
      local.dynamodb ? var.dynamodb.existing_stream_arn : null,
    ), null))
  }
}

output "kinesis_consumer_names" {
  description = "Each enhanced fan-out consumer's name (dimension ConsumerName of its metrics), by consumer key."
  value       = { for key, consumer in aws_kinesis_stream_consumer.this : key => consumer.name }
}

output "shared_consumers" {
  description = "The consumers that share the stream's read budget (no enhanced fan-out), by key."
  value       = local.shared_keys
}

output "event_source_arn" {
  description = "The ARN the default consumer's event source mapping reads: the enhanced fan-out consumer, the Kinesis stream, or the DynamoDB stream."
  value = try(coalesce(
    try(aws_kinesis_stream_consumer.this["default"].arn, null),
    try(aws_kinesis_stream.this[0].arn, null),
    try(aws_dynamodb_table.this[0].stream_arn, null),
    local.dynamodb ? var.dynamodb.existing_stream_arn : null,
  ), null)
}

output "stream_arn" {
  description = "The Kinesis stream ARN or the DynamoDB stream ARN (for IAM read permissions)."
  value = try(coalesce(
    try(aws_kinesis_stream.this[0].arn, null),
    try(aws_dynamodb_table.this[0].stream_arn, null),
    local.dynamodb ? var.dynamodb.existing_stream_arn : null,
  ), null)
}

output "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name."
  value = try(coalesce(
    try(aws_kinesis_stream.this[0].name, null),
    try(aws_dynamodb_table.this[0].name, null),
    local.dynamodb && local.existing_stream_parts != null ? local.existing_stream_parts[0] : null,
  ), null)
}

output "stream_label" {
  description = "The DynamoDB stream label (a dimension of its CloudWatch metrics); null for Kinesis."
  value = try(coalesce(
    try(aws_dynamodb_table.this[0].stream_label, null),
    local.dynamodb && local.existing_stream_parts != null ? local.existing_stream_parts[1] : null,
  ), null)
}

output "kinesis_consumer_arn" {
  description = "The default consumer's enhanced fan-out consumer ARN, or null."
  value       = try(aws_kinesis_stream_consumer.this["default"].arn, null)
}

output "kinesis_consumer_name" {
  description = "The default consumer's enhanced fan-out consumer name (dimension ConsumerName of its metrics), or null."
  value       = try(aws_kinesis_stream_consumer.this["default"].name, null)
}

output "kpl_aggregation" {
  description = "Whether the producers put KPL aggregates (kinesis.kpl_aggregation): consumers must keep a parallelization factor of 1."
  value       = var.kinesis.kpl_aggregation
}

output "dynamodb_table_arn" {
  description = "The DynamoDB source table ARN created here, or null."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "retention_hours" {
  description = "How long the stream keeps a record: the configured Kinesis retention, or 24 for DynamoDB Streams (fixed by AWS)."
  value       = var.source_type == "kinesis" ? var.kinesis.retention_hours : 24
}

output "stream_mode" {
  description = "The Kinesis stream mode (`PROVISIONED` or `ON_DEMAND`)."
  value       = var.kinesis.stream_mode
}

output "shard_count" {
  description = "Provisioned Kinesis shards (the dashboard's capacity lines), or null for on-demand and DynamoDB."
  value       = var.source_type == "kinesis" && local.provisioned ? var.kinesis.shard_count : null
}

output "billing_mode" {
  description = "The DynamoDB source table's billing mode (`PROVISIONED` or `PAY_PER_REQUEST`) when created here; null otherwise."
  value       = try(aws_dynamodb_table.this[0].billing_mode, null)
}

output "kms_key_arn" {
  description = "The customer KMS key that encrypts the stream or table, or null for the AWS-managed keys (`aws/kinesis`, `aws/dynamodb`)."
  value       = var.source_type == "kinesis" ? var.kinesis.kms_key_arn : var.dynamodb.kms_key_arn
}
