output "source_type" {
  description = "`kinesis` or `dynamodb`."
  value       = var.source_type
}

output "event_source_arns" {
  description = "What each consumer's event source mapping reads, by consumer key: its enhanced fan-out consumer, or the stream."
  value = {
    for key in local.consumer_keys : key => contains(local.efo_keys, key) ? aws_kinesis_stream_consumer.this[key].arn : local.stream_arn
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
  value       = contains(local.efo_keys, "default") ? aws_kinesis_stream_consumer.this["default"].arn : local.stream_arn
}

output "stream_arn" {
  description = "The Kinesis stream ARN or the DynamoDB stream ARN (for IAM read permissions): created here, or the existing one."
  value       = local.stream_arn
}

output "stream_created" {
  description = "Whether this module created the stream (or the DynamoDB table) the consumers read: false for an existing stream, which is its owner's."
  value       = local.create_stream || local.create_table
}

output "stream_watched" {
  description = "Whether the stream-level alarms and dashboard widgets belong to this stack: always for a Kinesis stream created here (and for DynamoDB, whose stream widgets read the table's metrics), for an existing Kinesis stream only with kinesis.watch_existing_stream (its owner watches it, and a stream in another account publishes its metrics there)."
  value       = local.create_stream || (local.kinesis && var.kinesis.watch_existing_stream) || local.dynamodb
}

output "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name."
  value = (
    local.create_stream ? aws_kinesis_stream.this[0].name :
    local.kinesis ? local.existing_kinesis_name :
    local.create_table ? aws_dynamodb_table.this[0].name :
    local.dynamodb ? local.existing_stream_parts[0] : null
  )
}

output "stream_label" {
  description = "The DynamoDB stream label (a dimension of its CloudWatch metrics); null for Kinesis."
  value = (
    local.create_table ? aws_dynamodb_table.this[0].stream_label :
    local.dynamodb ? local.existing_stream_parts[1] : null
  )
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
  description = "The Kinesis stream's shards (the consumers' least concurrency, the read budget, the dashboard's capacity lines): a created provisioned stream's, or the count given for an existing stream; null for a created on-demand stream and for DynamoDB."
  value       = var.source_type == "kinesis" ? local.shard_count : null
}

output "billing_mode" {
  description = "The DynamoDB source table's billing mode (`PROVISIONED` or `PAY_PER_REQUEST`) when created here; null otherwise."
  value       = try(aws_dynamodb_table.this[0].billing_mode, null)
}

output "kms_key_arn" {
  description = "The customer KMS key that encrypts the stream or table, or null for the AWS-managed keys (`aws/kinesis`, `aws/dynamodb`)."
  value       = var.source_type == "kinesis" ? var.kinesis.kms_key_arn : var.dynamodb.kms_key_arn
}
