output "sns_topic_arn" {
  description = "The alarm topic ARN."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "kms_key_arn" {
  description = "The key that encrypts the alarm topic."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "alarm_names" {
  description = "Names of the metric alarms, by key."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "alarm_arns" {
  description = "ARNs of every alarm made here (metric, composite, billing), for the dashboard's alarm widget."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn],
    [for alarm in aws_cloudwatch_composite_alarm.unhealthy : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.billing : alarm.arn],
  )
}

output "alarm_thresholds" {
  description = "The threshold of each metric alarm, by key (what the alarm math produced)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.threshold }
}

output "composite_alarm_name" {
  description = "The pipeline-unhealthy composite alarm."
  value       = try(aws_cloudwatch_composite_alarm.unhealthy[0].alarm_name, null)
}

output "budget_name" {
  description = "The monthly budget, or null."
  value       = try(aws_budgets_budget.monthly[0].name, null)
}
