Feature: Data at rest is encrypted
  Every place a record can rest (stream, failure queue, alarm topic, tables) is encrypted.

  Scenario: Kinesis streams are encrypted with KMS
    Given I have aws_kinesis_stream defined
    Then it must contain encryption_type
    And its value must be KMS

  Scenario: SQS queues are encrypted
    Given I have aws_sqs_queue defined
    Then it must contain sqs_managed_sse_enabled
    And its value must be true

  Scenario: SNS topics are encrypted with a customer key
    Given I have aws_sns_topic defined
    Then it must contain kms_master_key_id

  Scenario: DynamoDB tables are encrypted
    Given I have aws_dynamodb_table defined
    Then it must contain server_side_encryption
    And it must contain enabled
    And its value must be true
