locals {
  # The default consumer comes from the top-level variables (0.2's single consumer); the consumers
  # map adds others, each named after its key, inheriting the default's settings and overriding the
  # ones it gives (an attribute left out of an entry is null, so only what the entry sets wins).
  # Whole objects go to the child, whose types fill the defaults of what nobody set.
  consumers = merge(
    {
      default = {
        name                   = var.name
        enhanced_fan_out       = var.kinesis.enhanced_fan_out
        function               = var.function
        event_source_mapping   = var.event_source_mapping
        sink                   = var.sink
        on_failure_destination = var.on_failure_destination
        input_names            = { enhanced_fan_out = "kinesis.enhanced_fan_out", event_source_mapping = "event_source_mapping" }
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
        input_names            = { enhanced_fan_out = "consumers[\"${key}\"].enhanced_fan_out", event_source_mapping = "consumers[\"${key}\"].event_source_mapping" }
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
  enhanced_fan_out_consumer_name   = lookup(module.stream.kinesis_consumer_names, each.key, null)
  input_names                      = each.value.input_names
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
  on_failure_archive_kms_key_arn   = var.on_failure_archive_kms_key_arn
  redrive_ledger_table_arn         = module.operator.redrive_ledger_table_arn
  redrive_ledger_key_arn           = module.operator.redrive_ledger_key_arn
  role_permissions_boundary        = var.role_permissions_boundary
  role_path                        = var.role_path
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

  enabled     = var.enabled && var.alarms.enabled
  name        = var.name
  source_type = var.source_type
  # The stream-level alarms are Kinesis's, and the stream's owner's unless watched here; null is
  # known at plan (a DynamoDB stream's table name, from an ARN of a table declared beside the
  # module, is not, and the alarms' for_each cannot wait for it).
  stream_name                 = var.source_type == "kinesis" && module.stream.stream_watched ? module.stream.stream_name : null
  stream_retention_hours      = module.stream.retention_hours
  consumers                   = local.watched
  create_sns_topic            = var.alarms.create_sns_topic
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
  operator_role_arns = var.operator_role_arns
  ledger_kms_key_arn = var.redrive_ledger_kms_key_arn
  consumers = {
    for key, c in module.consumer : key => {
      function_arn                 = c.function_arn
      event_source_arn             = module.stream.event_source_arns[key]
      on_failure_destination_arn   = c.on_failure_destination_arn
      on_failure_queue_kms_key_arn = c.on_failure_destination == "sqs" ? var.on_failure_queue_kms_key_arn : null
      on_failure_archive_key_arn   = c.on_failure_destination == "s3" ? var.on_failure_archive_kms_key_arn : null
      sink_table_arn               = c.sink_table_arn
      log_group_arn                = c.log_group_arn
    }
  }
  tags = var.tags
}

# A stream this stack does not own, in another account: the stream's owner applies this resource
# policy (aws_kinesis_resource_policy) so that each consumer's role may read it, and the operators'
# roles may read it for redrive. The roles' own policies already name the stream. Registered
# (enhanced fan-out) consumers can only be registered in the stream's account, by its owner.
locals {
  existing_kinesis_stream = var.enabled && var.source_type == "kinesis" && !module.stream.stream_created
  kinesis_resource_policy = !local.existing_kinesis_stream ? null : jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "ConsumersOf${replace(title(replace(var.name, "/[^A-Za-z0-9]+/", " ")), " ", "")}Read"
        Effect    = "Allow"
        Principal = { AWS = [for c in module.consumer : c.role_arn] }
        Action    = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
        Resource  = module.stream.stream_arn
      }],
      [for arns in [var.operator_role_arns] : {
        Sid       = "OperatorsReadForRedrive"
        Effect    = "Allow"
        Principal = { AWS = arns }
        Action    = ["kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
        Resource  = module.stream.stream_arn
      } if length(arns) > 0],
    )
  })
}

# Dashboards, like IAM roles, are global: the region in the name keeps two regions apart.
data "aws_region" "current" {}

module "dashboard" {
  source = "./modules/dashboard"

  enabled             = var.enabled && var.dashboard.enabled
  name                = "${var.name}-${data.aws_region.current.id}"
  source_type         = var.source_type
  period_seconds      = var.dashboard.period_seconds
  stream_name         = module.stream.stream_watched ? module.stream.stream_name : null
  stream_label        = module.stream.stream_label
  shard_count         = module.stream.shard_count
  source_billing_mode = module.stream.billing_mode
  consumers           = local.watched
  alarm_arns          = module.alarms.alarm_arns
}
