# Cost guardrails (seed 000): an EstimatedCharges alarm (us-east-1 only) and a monthly budget.

resource "aws_cloudwatch_metric_alarm" "billing" {
  count = local.enabled && var.billing_alarm.enabled ? 1 : 0

  alarm_name          = "${var.name}-estimated-charges"
  alarm_description   = "Estimated charges of the account for this month are above $${var.billing_alarm.threshold_usd}. What to do: open Cost Explorer, group by service, and look for the pipeline's shards, enhanced fan-out and logs."
  namespace           = "AWS/Billing"
  metric_name         = "EstimatedCharges"
  dimensions          = { Currency = "USD" }
  statistic           = "Maximum"
  period              = 21600 # the metric is published a few times a day
  evaluation_periods  = 1
  threshold           = var.billing_alarm.threshold_usd
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = compact([local.topic_arn])
  tags                = var.tags

  lifecycle {
    precondition {
      condition     = data.aws_region.current.id == "us-east-1"
      error_message = "The billing alarm needs the us-east-1 provider: AWS publishes EstimatedCharges only in us-east-1. Use a second modules/alarms instance with providers = { aws = aws.us_east_1 }, or leave billing_alarm disabled."
    }
  }
}

resource "aws_budgets_budget" "monthly" {
  count = local.enabled && var.budget.enabled ? 1 : 0

  # Budgets are account-wide: the region keeps the same pipeline name in two regions apart.
  name         = "${var.name}-${data.aws_region.current.id}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.budget.limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.email_addresses
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = var.email_addresses
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.email_addresses) > 0
      error_message = "The budget needs at least one address in email_addresses to notify."
    }
  }
}
