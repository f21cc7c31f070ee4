Feature: Nothing is silently lost
  # The provider requires destination_arn in an on_failure block, so on_failure is the check. (A
  # step on destination_arn itself cannot pass here: the queue's ARN is known only after apply, and
  # terraform-compliance 1.16 finds such a value only on resources outside a for_each module,
  # terraform-compliance/cli#796; the consumers are module.consumer["<key>"].)
  Scenario: Every event source mapping has an on-failure destination
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain destination_config
    And it must contain on_failure

  Scenario: Every event source mapping reports partial batch failures
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain function_response_types
    And its value must be ReportBatchItemFailures

  Scenario: Every event source mapping retries a finite number of times
    Given I have aws_lambda_event_source_mapping defined
    Then it must contain maximum_retry_attempts
    And its value must be greater and equal than 0
