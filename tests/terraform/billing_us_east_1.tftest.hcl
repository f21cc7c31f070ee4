# The billing alarm is created where EstimatedCharges exists: us-east-1.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"

  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
}

run "billing_alarm_in_us_east_1" {
  command = plan
  module {
    source = "./modules/alarms"
  }

  variables {
    name          = "pipeline"
    consumers     = { default = { function_name = "pipeline" } }
    billing_alarm = { enabled = true }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.billing[0].threshold == 1 && aws_cloudwatch_metric_alarm.billing[0].namespace == "AWS/Billing" &&
      aws_cloudwatch_metric_alarm.billing[0].dimensions["Currency"] == "USD"
    )
    error_message = "A $1 EstimatedCharges alarm in USD (seed 000)."
  }
}
