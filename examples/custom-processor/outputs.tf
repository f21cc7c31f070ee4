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
