# The root composes four small modules. Children never call each other: the root passes the
# stream's outputs to the consumer, and both to the alarms and the dashboard.

module "stream" {
  source = "./modules/stream"

  enabled     = var.enabled
  name        = var.name
  source_type = var.source_type
  kinesis     = var.kinesis
  dynamodb    = var.dynamodb
  tags        = var.tags
}

module "consumer" {
  source = "./modules/consumer"

  enabled                          = var.enabled
  name                             = var.name
  source_type                      = var.source_type
  event_source_arn                 = module.stream.event_source_arn
  stream_arn                       = module.stream.stream_arn
  stream_kms_key_arn               = module.stream.kms_key_arn
  stream_retention_hours           = module.stream.retention_hours
  shard_count                      = module.stream.shard_count
  stream_mode                      = module.stream.stream_mode
  function                         = var.function
  event_source_mapping             = var.event_source_mapping
  sink                             = var.sink
  on_failure_destination           = var.on_failure_destination
  on_failure_archive_days          = var.on_failure_archive_days
  on_failure_archive_force_destroy = var.on_failure_archive_force_destroy
  on_failure_queue_kms_key_arn     = var.on_failure_queue_kms_key_arn
  pipeline_name                    = var.name
  redrive_ledger_table_arn         = module.operator.redrive_ledger_table_arn
  redrive_ledger_key_arn           = module.operator.redrive_ledger_key_arn
  tags                             = var.tags
}

module "alarms" {
  source = "./modules/alarms"

  enabled                = var.enabled && var.alarms.enabled
  name                   = var.name
  source_type            = var.source_type
  stream_name            = module.stream.stream_name
  stream_retention_hours = module.stream.retention_hours
  consumers = { for key, c in {
    default = {
      function_name                = module.consumer.function_name
      function_timeout_seconds     = module.consumer.function_timeout_seconds
      event_source_mapping_uuid    = module.consumer.event_source_mapping_uuid
      event_source_mapping_metrics = module.consumer.event_source_mapping_metrics
      event_source_mapping_enabled = module.consumer.event_source_mapping_enabled
      maximum_record_age_seconds   = module.consumer.maximum_record_age_seconds
      metrics_namespace            = module.consumer.metrics_namespace
      service_name                 = module.consumer.service_name
      kinesis_consumer_name        = module.stream.kinesis_consumer_name
      sink_table_name              = module.consumer.sink_table_name
      on_failure_queue_name        = module.consumer.on_failure_queue_name
    }
  } : key => c if var.enabled }
  sns_topic_arn               = var.alarms.sns_topic_arn
  email_addresses             = var.alarms.email_addresses
  paging                      = var.alarms.paging
  period_seconds              = var.alarms.period_seconds
  local_emulator              = var.alarms.local_emulator
  notify_on_ok                = var.alarms.notify_on_ok
  notify_on_insufficient_data = var.alarms.notify_on_insufficient_data
  thresholds                  = var.alarms.thresholds
  silent_stream               = var.alarms.silent_stream
  runbook_url                 = var.alarms.runbook_url
  budget                      = var.alarms.budget
  billing_alarm               = var.alarms.billing_alarm
  tags                        = var.tags
}

# The operator's side: the redrive ledger and the least-privilege policies of the operator commands.
module "operator" {
  source = "./modules/operator"

  enabled            = var.enabled
  name               = var.name
  source_type        = var.source_type
  stream_arn         = module.stream.stream_arn
  source_table_arn   = module.stream.dynamodb_table_arn
  stream_kms_key_arn = module.stream.kms_key_arn
  sns_topic_arn      = module.alarms.sns_topic_arn
  consumers = { for key, c in {
    default = {
      function_arn                 = module.consumer.function_arn
      event_source_arn             = module.stream.event_source_arn
      on_failure_destination_arn   = module.consumer.on_failure_destination_arn
      on_failure_queue_kms_key_arn = var.on_failure_queue_kms_key_arn
      sink_table_arn               = module.consumer.sink_table_arn
      log_group_arn                = module.consumer.log_group_arn
    }
  } : key => c if var.enabled }
  tags = var.tags
}

# Dashboards, like IAM roles, are global: the region in the name keeps two regions apart.
data "aws_region" "current" {}

module "dashboard" {
  source = "./modules/dashboard"

  enabled                      = var.enabled && var.dashboard.enabled
  name                         = "${var.name}-${data.aws_region.current.id}"
  source_type                  = var.source_type
  period_seconds               = var.dashboard.period_seconds
  function_name                = module.consumer.function_name
  function_timeout_seconds     = module.consumer.function_timeout_seconds
  event_source_mapping_uuid    = module.consumer.event_source_mapping_uuid
  event_source_mapping_metrics = module.consumer.event_source_mapping_metrics
  stream_name                  = module.stream.stream_name
  stream_label                 = module.stream.stream_label
  kinesis_consumer_name        = module.stream.kinesis_consumer_name
  shard_count                  = module.stream.shard_count
  source_billing_mode          = module.stream.billing_mode
  sink_table_name              = module.consumer.sink_table_name
  sink_billing_mode            = module.consumer.sink_billing_mode
  on_failure_queue_name        = module.consumer.on_failure_queue_name
  metrics_namespace            = module.consumer.metrics_namespace
  service_name                 = module.consumer.service_name
  alarm_arns                   = module.alarms.alarm_arns
}
