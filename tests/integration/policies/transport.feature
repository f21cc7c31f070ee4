Feature: Nothing travels in plain text, and only this pipeline pages
  The alarm topic, the failure queue and the failure archive refuse any request made without TLS,
  and only this pipeline's alarms may publish to its topic. Their policies name ARNs created in the
  same apply, so only the plan of an applied stack knows them: tests/integration runs these there
  (with tests/policy) and breaks each one to see it fail; tests/terraform checks the rendered
  documents offline.

  Scenario: The alarm topic refuses plain HTTP
    Given I have aws_sns_topic_policy defined
    When it has policy
    Then it must contain policy
    And it must contain aws:SecureTransport
    And its value must be false

  Scenario: Only this pipeline's alarms publish to its topic
    Given I have aws_sns_topic_policy defined
    When it has policy
    Then it must contain policy
    And it must contain aws:SourceArn
    And its value must match the "^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:[A-Za-z0-9_-]+-\*$" regex

  Scenario: The failure queue refuses plain HTTP
    Given I have aws_sqs_queue_policy defined
    When it has policy
    Then it must contain policy
    And it must contain aws:SecureTransport
    And its value must be false

  Scenario: The failure archive refuses plain HTTP
    Given I have aws_s3_bucket_policy defined
    When it has policy
    Then it must contain policy
    And it must contain aws:SecureTransport
    And its value must be false
