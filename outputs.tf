output "stream_arn" {
  description = "The Kinesis stream ARN, or the DynamoDB stream ARN."
  value       = module.stream.stream_arn
}

output "stream_name" {
  description = "The Kinesis stream name, or the DynamoDB source table name."
  value       = module.stream.stream_name
}

output "event_source_arn" {
  description = "What the default consumer's event source mapping reads (its enhanced fan-out consumer when enabled)."
  value       = module.stream.event_source_arn
}

output "consumers" {
  description = "Every consumer, by key (`default` is the one the top-level variables describe): its function, role, mapping, what the mapping reads, failure path, sink and log group."
  value = {
    for key, c in module.consumer : key => {
      function_name              = c.function_name
      function_arn               = c.function_arn
      role_name                  = c.role_name
      role_arn                   = c.role_arn
      event_source_arn           = module.stream.event_source_arns[key]
      kinesis_consumer_name      = lookup(module.stream.kinesis_consumer_names, key, null)
      event_source_mapping_uuid  = c.event_source_mapping_uuid
      maximum_record_age_seconds = c.maximum_record_age_seconds
      on_failure_destination_arn = c.on_failure_destination_arn
      on_failure_queue_url       = c.on_failure_queue_url
      on_failure_bucket_name     = c.on_failure_bucket_name
      sink_table_name            = c.sink_table_name
      sink_table_arn             = c.sink_table_arn
      log_group_name             = c.log_group_name
    }
  }
}

output "kinesis_resource_policy_json" {
  description = "With an existing Kinesis stream (kinesis.existing_stream_arn): the resource policy its owner applies (aws_kinesis_resource_policy on the stream) when it is in another account, letting each consumer's role, and the operator_role_arns, read it; null for a stream this module created."
  value       = local.kinesis_resource_policy
}

output "shared_read_consumers" {
  description = "The consumers that share the stream's read throughput (no enhanced fan-out), by key."
  value       = module.stream.shared_consumers
}

output "function_name" {
  description = "The default consumer's Lambda function name (`consumers` lists them all)."
  value       = try(module.consumer["default"].function_name, null)
}

output "function_arn" {
  description = "The default consumer's Lambda function ARN."
  value       = try(module.consumer["default"].function_arn, null)
}

output "role_name" {
  description = "The default consumer's execution role name (to attach policies of your own)."
  value       = try(module.consumer["default"].role_name, null)
}

output "role_arn" {
  description = "The default consumer's execution role ARN."
  value       = try(module.consumer["default"].role_arn, null)
}

output "log_group_arn" {
  description = "The default consumer's log group ARN."
  value       = try(module.consumer["default"].log_group_arn, null)
}

output "sink_table_arn" {
  description = "The default consumer's DynamoDB sink table ARN, or null."
  value       = try(module.consumer["default"].sink_table_arn, null)
}

output "source_table_arn" {
  description = "The DynamoDB source table ARN when this module created it, or null."
  value       = module.stream.dynamodb_table_arn
}

output "log_group_name" {
  description = "The default consumer's log group."
  value       = try(module.consumer["default"].log_group_name, null)
}

output "on_failure_queue_url" {
  description = "The default consumer's on-failure SQS queue URL (on_failure_destination `sqs`), or null."
  value       = try(module.consumer["default"].on_failure_queue_url, null)
}

output "on_failure_queue_arn" {
  description = "The default consumer's on-failure SQS queue ARN, or null."
  value       = try(module.consumer["default"].on_failure_queue_arn, null)
}

output "on_failure_bucket_name" {
  description = "The default consumer's failure archive bucket (on_failure_destination `s3`), or null."
  value       = try(module.consumer["default"].on_failure_bucket_name, null)
}

output "sink_table_name" {
  description = "The default consumer's DynamoDB sink table name, or null."
  value       = try(module.consumer["default"].sink_table_name, null)
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
    version                  = trimspace(file("${path.module}/VERSION"))
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
      for key, c in module.consumer : key => {
        function_name              = c.function_name
        function_arn               = c.function_arn
        event_source_arn           = module.stream.event_source_arns[key]
        event_source_mapping_uuid  = c.event_source_mapping_uuid
        on_failure_destination_arn = c.on_failure_destination_arn
        sink_table_arn             = c.sink_table_arn
      }
    }
  } : null
}

output "event_source_mapping_uuid" {
  description = "The default consumer's event source mapping UUID (dimension EventSourceMappingUUID of its metrics)."
  value       = try(module.consumer["default"].event_source_mapping_uuid, null)
}

output "maximum_record_age_seconds" {
  description = "The age at which Lambda gives a record of the default consumer up to its on-failure destination."
  value       = try(module.consumer["default"].maximum_record_age_seconds, null)
}

output "dashboard_name" {
  description = "The CloudWatch dashboard name."
  value       = module.dashboard.dashboard_name
}

output "dashboard_url" {
  description = "The dashboard in the CloudWatch console."
  value       = module.dashboard.dashboard_url
}
