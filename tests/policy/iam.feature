Feature: No IAM action is a wildcard
  A fresh plan cannot know an inline policy whose resources are created in the same apply
  (the ARNs are unknown until then): the "When it has policy" step skips those, and the same
  scenario runs on the plan of an applied stack (LocalStack). tests/terraform/consumer.tftest.hcl
  checks the rendered policy offline.

  Scenario: Inline role policies name every action
    Given I have aws_iam_role_policy defined
    When it has policy
    Then it must contain Statement
    And it must contain Action
    And its value must not match the ".*\*" regex

  Scenario: Trust policies name every action
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    And it must contain Action
    And its value must not match the ".*\*" regex
