output "function_name" {
  description = "The Lambda function name."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "function_arn" {
  description = "The Lambda function ARN."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "function_timeout_seconds" {
  description = "The function timeout (the duration alarm and the dashboard line follow it)."
  value       = var.function.timeout_seconds
}

output "role_arn" {
  description = "The execution role ARN."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "The execution role name (to attach policies of your own)."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_policy_json" {
  description = "The execution role's inline policy document."
  value       = try(aws_iam_role_policy.this[0].policy, null)
}

output "log_group_name" {
  description = "The function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "The function's log group ARN (for subscription filters and metric filters)."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "on_failure_queue_url" {
  description = "The on-failure SQS queue URL."
  value       = try(aws_sqs_queue.on_failure[0].url, null)
}

output "on_failure_queue_arn" {
  description = "The on-failure SQS queue ARN."
  value       = try(aws_sqs_queue.on_failure[0].arn, null)
}

output "on_failure_queue_name" {
  description = "The on-failure SQS queue name."
  value       = try(aws_sqs_queue.on_failure[0].name, null)
}

output "on_failure_bucket_name" {
  description = "The failure archive bucket (on_failure_destination `s3`), or null."
  value       = try(aws_s3_bucket.on_failure[0].bucket, null)
}

output "on_failure_destination_arn" {
  description = "Where the mapping sends the batches it gives up on: the queue or the archive bucket."
  value       = local.failure_destination_arn
}

output "sink_table_name" {
  description = "The DynamoDB sink table name, or null."
  value       = try(aws_dynamodb_table.sink[0].name, null)
}

output "sink_billing_mode" {
  description = "The sink table's billing mode (`PROVISIONED` or `PAY_PER_REQUEST`), or null."
  value       = try(aws_dynamodb_table.sink[0].billing_mode, null)
}

output "sink_table_arn" {
  description = "The DynamoDB sink table ARN, or null."
  value       = try(aws_dynamodb_table.sink[0].arn, null)
}

output "event_source_mapping_uuid" {
  description = "The event source mapping UUID."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "metrics_namespace" {
  description = "The namespace of the handler's EMF metrics (METRICS_NAMESPACE, also when set through function.environment)."
  value       = local.environment["METRICS_NAMESPACE"]
}

output "maximum_record_age_seconds" {
  description = "The mapping's effective maximum record age: the age at which Lambda gives a record up to the on-failure destination."
  value       = local.maximum_record_age_seconds
}

output "event_source_mapping_metrics" {
  description = "Whether the mapping publishes its EventCount metrics."
  value       = var.event_source_mapping.metrics
}

output "service_name" {
  description = "The `service` dimension of the handler's metrics (POWERTOOLS_SERVICE_NAME)."
  value       = local.environment["POWERTOOLS_SERVICE_NAME"]
}

output "event_source_mapping_enabled" {
  description = "Whether the mapping is meant to poll (event_source_mapping.enabled): a disabled one has no consumer-stopped alarm."
  value       = var.event_source_mapping.enabled
}

output "on_failure_destination" {
  description = "`sqs` or `s3`."
  value       = var.on_failure_destination
}
