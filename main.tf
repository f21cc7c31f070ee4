locals {
  # The default consumer comes from the top-level variables (0.2's single consumer); the consumers
  # map adds others, each named after its key, inheriting the default's settings and overriding the
  # ones it gives (an attribute left out of an entry is null, so only what the entry sets wins).
  consumers = merge(
    {
      default = {
        name                   = var.name
        enhanced_fan_out       = var.kinesis.enhanced_fan_out
        function               = var.function
        event_source_mapping   = var.event_source_mapping
        sink                   = var.sink
        on_failure_destination = var.on_failure_destination
      }
    },
    {
      for key, c in var.consumers : key => {
        name                   = "${var.name}-${key}"
        enhanced_fan_out       = c.enhanced_fan_out
        function               = merge(var.function, { for k, v in c.function : k => v if v != null })
        event_source_mapping   = merge(var.event_source_mapping, { for k, v in c.event_source_mapping : k => v if v != null })
        sink                   = merge(var.sink, { for k, v in c.sink : k => v if v != null })
        on_failure_destination = coalesce(c.on_failure_destination, var.on_failure_destination)
      }
    },
  )
}

# The root composes five small modules. Children never call each other: the root passes the
# stream's outputs to the consumer, and both to the alarms and the dashboard.

module "stream" {
  source = "./modules/stream"

  enabled     = var.enabled
  name        = var.name
  source_type = var.source_type
  kinesis     = var.kinesis
  dynamodb    = var.dynamodb
  consumers   = { for key, c in local.consumers : key => { enhanced_fan_out = c.enhanced_fan_out } }
  tags        = var.tags
}

# One consumer module per consumer: the function, its mapping, its failure path and its sink.
module "consumer" {
  source   = "./modules/consumer"
  for_each = { for key, c in local.consumers : key => c if var.enabled }

  name                             = each.value.name
  pipeline_name                    = var.name
  source_type                      = var.source_type
  event_source_arn                 = module.stream.event_source_arns[each.key]
  stream_arn                       = module.stream.stream_arn
  stream_kms_key_arn               = module.stream.kms_key_arn
  stream_retention_hours           = module.stream.retention_hours
  shard_count                      = module.stream.shard_count
  stream_mode                      = module.stream.stream_mode
  kpl_aggregated_records           = module.stream.kpl_aggregation
  function                         = each.value.function
  event_source_mapping             = each.value.event_source_mapping
  sink                             = each.value.sink
  on_failure_destination           = each.value.on_failure_destination
  on_failure_archive_days          = var.on_failure_archive_days
  on_failure_archive_force_destroy = var.on_failure_archive_force_destroy
  on_failure_queue_kms_key_arn     = var.on_failure_queue_kms_key_arn
  redrive_ledger_table_arn         = module.operator.redrive_ledger_table_arn
  redrive_ledger_key_arn           = module.operator.redrive_ledger_key_arn
  tags                             = var.tags
}

# 0.2 had one consumer, `module.consumer`; it is now the `default` entry of the map, and its
# function, mapping, queue, sink, role and log group keep their state.
moved {
  from = module.consumer
  to   = module.consumer["default"]
}

# What the alarms and the dashboard read of each consumer: each module takes the attributes its
# `consumers` type declares (the alarms the mapping's state and maximum record age, the dashboard
# the sink's billing mode) and Terraform's conversion drops the others.
locals {
  watched = {
    for key, c in module.consumer : key => {
      function_name                = c.function_name
      function_timeout_seconds     = c.function_timeout_seconds
      event_source_mapping_uuid    = c.event_source_mapping_uuid
      event_source_mapping_metrics = c.event_source_mapping_metrics
      event_source_mapping_enabled = c.event_source_mapping_enabled
      maximum_record_age_seconds   = c.maximum_record_age_seconds
      metrics_namespace            = c.metrics_namespace
      service_name                 = c.service_name
      kinesis_consumer_name        = lookup(module.stream.kinesis_consumer_names, key, null)
      sink_table_name              = c.sink_table_name
      sink_billing_mode            = c.sink_billing_mode
      on_failure_queue_name        = c.on_failure_queue_name
    }
  }
}

module "alarms" {
  source = "./modules/alarms"

  enabled                     = var.enabled && var.alarms.enabled
  name                        = var.name
  source_type                 = var.source_type
  stream_name                 = module.stream.stream_name
  stream_retention_hours      = module.stream.retention_hours
  consumers                   = local.watched
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
  consumers = {
    for key, c in module.consumer : key => {
      function_arn                 = c.function_arn
      event_source_arn             = module.stream.event_source_arns[key]
      on_failure_destination_arn   = c.on_failure_destination_arn
      on_failure_queue_kms_key_arn = var.on_failure_queue_kms_key_arn
      sink_table_arn               = c.sink_table_arn
      log_group_arn                = c.log_group_arn
    }
  }
  tags = var.tags
}

# Dashboards, like IAM roles, are global: the region in the name keeps two regions apart.
data "aws_region" "current" {}

module "dashboard" {
  source = "./modules/dashboard"

  enabled             = var.enabled && var.dashboard.enabled
  name                = "${var.name}-${data.aws_region.current.id}"
  source_type         = var.source_type
  period_seconds      = var.dashboard.period_seconds
  stream_name         = module.stream.stream_name
  stream_label        = module.stream.stream_label
  shard_count         = module.stream.shard_count
  source_billing_mode = module.stream.billing_mode
  consumers           = local.watched
  alarm_arns          = module.alarms.alarm_arns
}
