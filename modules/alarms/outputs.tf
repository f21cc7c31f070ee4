output "sns_topic_arn" {
  description = "The topic the alarms notify: the one created here, or sns_topic_arn."
  value       = local.topic_arn
}

output "kms_key_arn" {
  description = "The key that encrypts the topic created here, or null."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "alarm_names" {
  description = "Names of the metric alarms, by key."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "alarm_arns" {
  description = "ARNs of every alarm made here (composite, metric, billing), for the dashboard's alarm widget."
  value = concat(
    [for alarm in aws_cloudwatch_composite_alarm.severity : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.billing : alarm.arn],
  )
}

output "alarm_thresholds" {
  description = "The threshold of each metric alarm, by key (what the alarm math produced)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.threshold }
}

output "alarm_severities" {
  description = "The severity of each metric alarm, by key: `critical` (records at risk or lost) or `warning`."
  value       = { for key, alarm in local.alarms : key => alarm.severity }
}

output "composite_alarm_names" {
  description = "The paging composite alarms, by severity (`critical`, `warning`)."
  value       = { for severity, alarm in aws_cloudwatch_composite_alarm.severity : severity => alarm.alarm_name }
}

output "budget_name" {
  description = "The monthly budget, or null."
  value       = try(aws_budgets_budget.monthly[0].name, null)
}
