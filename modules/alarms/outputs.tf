output "sns_topic_arn" {
  description = "The topic the alarms notify: the one created here, or sns_topic_arn."
  value       = local.topic_arn
}

output "kms_key_arn" {
  description = "The key that encrypts the topic created here, or null."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "alarm_names" {
  description = "Names of the metric alarms, by key (`<alarm>` for the default consumer and the stream, `<consumer>/<alarm>` for the others)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "alarm_arns" {
  description = "ARNs of every alarm made here (composite, metric, billing), for the dashboard's alarm widget."
  value = concat(
    [for alarm in aws_cloudwatch_composite_alarm.incident : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.billing : alarm.arn],
  )
}

output "alarm_thresholds" {
  description = "The threshold of each metric alarm, by key (what the alarm math produced)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.threshold }
}

output "alarm_severities" {
  description = "The severity of each metric alarm, by key: `critical` (records at risk or lost), `warning` (degraded) or `info` (a status)."
  value       = { for key, alarm in local.alarms : key => alarm.severity }
}

output "alarm_paging" {
  description = "How each metric alarm pages, by key: `direct` (on its own), `lost`, `failing` or `behind` (through that composite of its consumer), or `status` (never)."
  value       = { for key, alarm in local.alarms : key => alarm.page }
}

output "composite_alarm_names" {
  description = "The incident composites, by key (`failing`, `behind`, `lost`; `<consumer>/<class>` for consumers other than `default`)."
  value       = { for key, alarm in aws_cloudwatch_composite_alarm.incident : key => alarm.alarm_name }
}

output "paging_alarm_names" {
  description = "Every alarm that notifies the topic when it goes to ALARM (what the alert-path test may set)."
  value = sort(concat(
    [for key, alarm in local.alarms : alarm.name if alarm.notify && local.topic_arn != null],
    [for key, c in local.composites : c.name if length(c.members) > 0 && var.paging == "composite" && local.topic_arn != null],
  ))
}

output "runbook_url" {
  description = "The runbook the alarm descriptions link to."
  value       = local.runbook_url
}

output "budget_name" {
  description = "The monthly budget, or null."
  value       = try(aws_budgets_budget.monthly[0].name, null)
}
