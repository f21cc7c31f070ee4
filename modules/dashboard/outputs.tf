output "dashboard_name" {
  description = "The dashboard name."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_url" {
  description = "The dashboard in the CloudWatch console."
  value       = var.enabled ? "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${var.name}" : null
}

output "dashboard_body" {
  description = "The dashboard JSON (decoded by the tests)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_body, null)
}
