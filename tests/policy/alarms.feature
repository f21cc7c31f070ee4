Feature: Every alarm notifies someone
  Scenario: Metric alarms have alarm actions
    Given I have aws_cloudwatch_metric_alarm defined
    Then it must contain alarm_actions

  Scenario: Composite alarms have alarm actions
    Given I have aws_cloudwatch_composite_alarm defined
    Then it must contain alarm_actions
