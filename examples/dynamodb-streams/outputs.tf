output "source_table_name" {
  description = "Write items here to see them flow."
  value       = module.pipeline.stream_name
}

output "stream_arn" {
  description = "The table's stream."
  value       = module.pipeline.stream_arn
}

output "function_name" {
  description = "The stream processor."
  value       = module.pipeline.function_name
}

output "log_group_name" {
  description = "The processor's log group."
  value       = module.pipeline.log_group_name
}

output "sink_table_name" {
  description = "The audit table."
  value       = module.pipeline.sink_table_name
}

output "on_failure_queue_url" {
  description = "Where batches that gave up are recorded."
  value       = module.pipeline.on_failure_queue_url
}

output "sns_topic_arn" {
  description = "The alarm topic."
  value       = module.pipeline.sns_topic_arn
}

output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = module.pipeline.dashboard_url
}

output "on_failure_bucket_name" {
  description = "The failure archive: one object per batch given up, with its records."
  value       = module.pipeline.on_failure_bucket_name
}

output "stream_pipeline" {
  description = "The stack as `stream-pipeline --outputs` reads it (the module's marker, every ARN, the consumers, the ledger)."
  value       = module.pipeline.stream_pipeline
}

output "operator_policies" {
  description = "The least-privilege IAM policies of `stream-pipeline doctor` and `redrive`, to attach to your operators' role."
  value       = module.pipeline.operator_policies
}
