output "stream_name" {
  description = "The Kinesis stream to send orders to."
  value       = module.pipeline.stream_name
}

output "function_name" {
  description = "The consumer function running my_team.orders."
  value       = module.pipeline.function_name
}

output "role_name" {
  description = "The function's role, to attach further policies."
  value       = module.pipeline.role_name
}

output "stream_pipeline" {
  description = "The stack as `stream-pipeline --outputs` reads it (the module's marker, every ARN, the consumers, the ledger)."
  value       = module.pipeline.stream_pipeline
}

output "operator_policies" {
  description = "The least-privilege IAM policies of `stream-pipeline doctor` and `redrive`, to attach to your operators' role."
  value       = module.pipeline.operator_policies
}
