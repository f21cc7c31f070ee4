Feature: The function's role is this account's, and writes only where Lambda writes
  These read policies whose ARNs are created in the same apply (the account comes from the stream's
  ARN), so only the plan of an applied stack knows them: tests/integration runs them there, and breaks
  each one to see it fail.

  Scenario: Only Lambda acting for this account may assume the function's role
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain aws:SourceAccount
    And its value must match the "^[0-9]{12}$" regex

  Scenario: The role writes the failure archive only under the prefix Lambda writes
    # A grant on bucket/* would let the function overwrite redriven/ and anything else in it.
    Given I have aws_iam_role_policy defined
    When it has policy
    Then it must contain policy
    And it must contain Resource
    And its value must not match the "^arn:aws[a-z-]*:s3:::[^/]+/\*$" regex
