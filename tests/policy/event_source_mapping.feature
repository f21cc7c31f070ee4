Feature: Nothing is silently lost
  Scenario: Every event source mapping has an on-failure destination
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain destination_config
    And it must contain on_failure
    And it must contain destination_arn

  Scenario: Every event source mapping reports partial batch failures
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain function_response_types
    And its value must be ReportBatchItemFailures

  Scenario: Every event source mapping retries a finite number of times
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain maximum_retry_attempts
    And its value must be greater and equal than 0
