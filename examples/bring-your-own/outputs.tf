output "stream_arn" {
  description = "The stream the consumer reads (the team's own, or another stack's)."
  value       = module.pipeline.stream_arn
}

output "stream_name" {
  description = "The stream's name."
  value       = module.pipeline.stream_name
}

output "function_name" {
  description = "The consumer function (in the team's VPC, its role under the boundary)."
  value       = module.pipeline.function_name
}

output "role_name" {
  description = "The consumer's execution role."
  value       = module.pipeline.role_name
}

output "sink_table_name" {
  description = "The archive of every record the consumer read."
  value       = module.pipeline.sink_table_name
}

output "on_failure_bucket_name" {
  description = "The failure archive (versioned, encrypted with the team's key)."
  value       = module.pipeline.on_failure_bucket_name
}

output "consumers" {
  description = "The consumer: function, mapping, failure path and sink."
  value       = module.pipeline.consumers
}

output "sns_topic_arn" {
  description = "The team's pager topic, which the alarms notify."
  value       = module.pipeline.sns_topic_arn
}

output "kinesis_resource_policy_json" {
  description = "For another account's stream: the resource policy its owner applies (aws_kinesis_resource_policy)."
  value       = module.pipeline.kinesis_resource_policy_json
}

output "operator_role_arn" {
  description = "The role the on-call assumes for `stream-pipeline redrive --apply`."
  value       = aws_iam_role.operator.arn
}

output "stream_pipeline" {
  description = "The stack as `stream-pipeline --outputs` reads it."
  value       = module.pipeline.stream_pipeline
}

output "operator_policies" {
  description = "The operator commands' least-privilege policies."
  value       = module.pipeline.operator_policies
}
