Feature: Every alarm says what it means and what to do
  # Paging (the severity composites page, the member alarms notify nobody, so an incident pages
  # once) is pinned by tests/terraform/alarms.tftest.hcl (one_incident_pages_once) and proven by
  # the drills on LocalStack. A terraform-compliance scenario on the composite's alarm_actions was
  # removed: it passed even on a plan with the actions removed, so it could not fail.

  Scenario: Metric alarms say what they mean and what to do
    Given I have aws_cloudwatch_metric_alarm defined
    Then it must contain alarm_description
    And its value must match the ".*What to do.*" regex
