output "stream_name" {
  description = "The Kinesis stream to send race telemetry to."
  value       = module.pipeline.stream_name
}

output "stream_arn" {
  description = "The Kinesis stream ARN."
  value       = module.pipeline.stream_arn
}

output "function_name" {
  description = "The leaderboard's function (the default consumer)."
  value       = module.pipeline.function_name
}

output "log_group_name" {
  description = "The leaderboard's log group."
  value       = module.pipeline.log_group_name
}

output "sink_table_name" {
  description = "The race standings table."
  value       = module.pipeline.sink_table_name
}

output "on_failure_queue_url" {
  description = "Where the leaderboard's batches that gave up are recorded."
  value       = module.pipeline.on_failure_queue_url
}

output "consumers" {
  description = "Both consumers: function, mapping, failure path and sink of each."
  value       = module.pipeline.consumers
}

output "sns_topic_arn" {
  description = "The alarm topic."
  value       = module.pipeline.sns_topic_arn
}

output "dashboard_url" {
  description = "The CloudWatch dashboard."
  value       = module.pipeline.dashboard_url
}

output "stream_pipeline" {
  description = "The stack as `stream-pipeline --outputs` reads it (both consumers)."
  value       = module.pipeline.stream_pipeline
}

output "operator_policies" {
  description = "The operator commands' least-privilege policies."
  value       = module.pipeline.operator_policies
}
