output "stream_arn" {
  description = "The Kinesis stream ARN, or the DynamoDB stream ARN."
  value       = module.stream.stream_arn
}

output "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name."
  value       = module.stream.stream_name
}

output "event_source_arn" {
  description = "What the event source mapping reads (the enhanced fan-out consumer when enabled)."
  value       = module.stream.event_source_arn
}

output "function_name" {
  description = "The consumer Lambda function name."
  value       = module.consumer.function_name
}

output "function_arn" {
  description = "The consumer Lambda function ARN."
  value       = module.consumer.function_arn
}

output "role_name" {
  description = "The function's execution role name (to attach policies of your own)."
  value       = module.consumer.role_name
}

output "role_arn" {
  description = "The function's execution role ARN."
  value       = module.consumer.role_arn
}

output "log_group_arn" {
  description = "The consumer's log group ARN."
  value       = module.consumer.log_group_arn
}

output "sink_table_arn" {
  description = "The DynamoDB sink table ARN, or null."
  value       = module.consumer.sink_table_arn
}

output "source_table_arn" {
  description = "The DynamoDB source table ARN when this module created it, or null."
  value       = module.stream.dynamodb_table_arn
}

output "log_group_name" {
  description = "The consumer's log group."
  value       = module.consumer.log_group_name
}

output "on_failure_queue_url" {
  description = "The on-failure SQS queue URL (on_failure_destination `sqs`), or null."
  value       = module.consumer.on_failure_queue_url
}

output "on_failure_queue_arn" {
  description = "The on-failure SQS queue ARN."
  value       = module.consumer.on_failure_queue_arn
}

output "on_failure_bucket_name" {
  description = "The failure archive bucket (on_failure_destination `s3`), or null."
  value       = module.consumer.on_failure_bucket_name
}

output "sink_table_name" {
  description = "The DynamoDB sink table name, or null."
  value       = module.consumer.sink_table_name
}

output "sns_topic_arn" {
  description = "The alarm topic ARN."
  value       = module.alarms.sns_topic_arn
}

output "alarm_names" {
  description = "The metric alarm names, by key."
  value       = module.alarms.alarm_names
}

output "composite_alarm_names" {
  description = "The incident composites, by key: `failing`, `behind` and `lost` (`<consumer>/<class>` for consumers other than `default`)."
  value       = module.alarms.composite_alarm_names
}

output "alarm_paging" {
  description = "How each metric alarm pages, by key: `direct`, `lost`, `failing` or `behind` (through that composite), or `status` (never)."
  value       = module.alarms.alarm_paging
}

output "paging_alarm_names" {
  description = "Every alarm and composite that notifies the topic (what `stream-pipeline alert-test` may set)."
  value       = module.alarms.paging_alarm_names
}

output "redrive_ledger_table_name" {
  description = "The redrive ledger (the operator's; the function can never write it), or null."
  value       = module.operator.redrive_ledger_table_name
}

output "operator_policies" {
  description = "The least-privilege IAM policy documents of the operator commands, by command (`doctor`: read-only; `redrive`), to attach to your operators' roles."
  value = {
    doctor  = module.operator.doctor_policy_json
    redrive = module.operator.redrive_policy_json
  }
}

output "stream_pipeline" {
  description = "The stack as the operator command reads it (`stream-pipeline --outputs`): this module's marker and version, the stream, every consumer's function, mapping, failure path and sink, the ledger. Re-export it from your root module under this name."
  value = var.enabled ? {
    module                   = "terraform-aws-stream-pipeline"
    version                  = "0.3.0"
    name                     = var.name
    source_type              = var.source_type
    stream_arn               = module.stream.stream_arn
    stream_name              = module.stream.stream_name
    source_table_arn         = module.stream.dynamodb_table_arn
    sns_topic_arn            = module.alarms.sns_topic_arn
    dashboard_name           = module.dashboard.dashboard_name
    redrive_ledger_table_arn = module.operator.redrive_ledger_table_arn
    redrive_ledger_key_arn   = module.operator.redrive_ledger_key_arn
    consumers = {
      default = {
        function_name              = module.consumer.function_name
        function_arn               = module.consumer.function_arn
        event_source_arn           = module.stream.event_source_arn
        event_source_mapping_uuid  = module.consumer.event_source_mapping_uuid
        on_failure_destination_arn = module.consumer.on_failure_destination_arn
        sink_table_arn             = module.consumer.sink_table_arn
      }
    }
  } : null
}

output "event_source_mapping_uuid" {
  description = "The event source mapping UUID (dimension EventSourceMappingUUID of its metrics)."
  value       = module.consumer.event_source_mapping_uuid
}

output "maximum_record_age_seconds" {
  description = "The age at which Lambda gives a record up to the on-failure destination."
  value       = module.consumer.maximum_record_age_seconds
}

output "dashboard_name" {
  description = "The CloudWatch dashboard name."
  value       = module.dashboard.dashboard_name
}

output "dashboard_url" {
  description = "The dashboard in the CloudWatch console."
  value       = module.dashboard.dashboard_url
}
