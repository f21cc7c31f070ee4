"""The doctor on a governed account's stack: a function stuck on its network interfaces in a VPC,
and a stream in another account, which it may not be allowed to read ("no access") or which may
be gone ("not there"): each with its own fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from doctor_fakes import FN, HEALTHY, STREAM_ARN, error, mapping, only, run, serious
from stream_pipeline_ops import doctor

VPC = {"VpcId": "vpc-0a1b", "SubnetIds": ["subnet-1111", "subnet-2222"], "SecurityGroupIds": ["sg-3333"]}
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FN}"
OWNER = "210987654321"
FOREIGN_STREAM = f"arn:aws:kinesis:us-east-1:{OWNER}:stream/orders"


def function(**changes: Any) -> dict[tuple[str, str], Any]:
    answer = copy.deepcopy(HEALTHY[("lambda", "get_function_configuration")])
    answer.update({"FunctionArn": FUNCTION_ARN, "VpcConfig": VPC, **changes})
    return {("lambda", "get_function_configuration"): answer}


def network_finding(report: doctor.Report) -> doctor.Finding:
    (found,) = [f for f in report.findings if f.title.startswith("the function is stuck on its network interfaces")]
    return found


# ------------------------------------------------------------------ ENI creation
@pytest.mark.parametrize(
    ("code", "means", "fix"),
    [
        ("EniLimitExceeded", "ENI quota is reached", "Elastic network interfaces per VPC; 500 by default"),
        ("InsufficientRolePermissions", "may not create network interfaces", "ec2:CreateNetworkInterface"),
        ("SubnetOutOfIPAddresses", "no free IP address", "larger subnets"),
        ("InvalidSubnet", "subnet it names does not exist", "aws ec2 describe-subnets"),
        ("InvalidSecurityGroup", "security group it names does not exist", "aws ec2 describe-security-groups"),
    ],
)
def test_a_function_that_failed_to_get_its_network_interfaces_is_told_why_and_what_to_do(
    code: str, means: str, fix: str
) -> None:
    reason = f"Lambda was unable to configure access to your VPC ({code})."
    report = run(function(State="Failed", StateReasonCode=code, StateReason=reason))
    found = network_finding(report)
    assert found.severity == doctor.Severity.CRITICAL
    assert f"({code})" in found.title
    assert means in found.title
    assert fix in found.fix
    assert "subnet-1111, subnet-2222" in found.evidence
    assert "sg-3333" in found.evidence
    assert reason in found.evidence
    assert "the function is Failed" not in [f.title for f in report.findings], "one finding, the specific one"


def test_an_update_that_failed_on_the_network_says_the_old_version_still_runs() -> None:
    report = run(
        function(
            State="Active", LastUpdateStatus="Failed", LastUpdateStatusReasonCode="SubnetOutOfIPAddresses",
            LastUpdateStatusReason="The subnet subnet-2222 has insufficient free IP addresses.",
        )
    )  # fmt: skip
    found = network_finding(report)
    assert "(SubnetOutOfIPAddresses)" in found.title
    assert "The subnet subnet-2222 has insufficient free IP addresses." in found.evidence
    assert found.fix.endswith("Until then its last update failed")
    assert "the last deployment of the function failed" not in [f.title for f in report.findings]


def test_a_vpc_function_still_pending_is_a_warning_to_wait() -> None:
    found = only(
        run(function(State="Pending", StateReasonCode="Creating", StateReason="The function is being created.")),
        "the function is Pending: Lambda is still creating its network interfaces in the VPC",
    )
    assert found.severity == doctor.Severity.WARNING
    assert "about a minute" in found.fix


def test_a_healthy_vpc_function_has_no_network_finding() -> None:
    assert serious(run(function())) == []


# ------------------------------------------------------------------ another account's stream
def foreign(describe: Any) -> dict[tuple[str, str], Any]:
    """The consumer reads a stream of account OWNER; DescribeStreamSummary answers with ``describe``."""
    return {**function(), **mapping(EventSourceArn=FOREIGN_STREAM), ("kinesis", "describe_stream_summary"): describe}


def refusing(code: str, seen: list[dict[str, Any]]) -> Any:
    def answer(**kwargs: Any) -> Any:
        seen.append(kwargs)
        raise error(code, "DescribeStreamSummary")

    return answer


def test_no_access_to_another_accounts_stream_says_the_owner_applies_the_resource_policy() -> None:
    seen: list[dict[str, Any]] = []
    report = run(foreign(refusing("AccessDeniedException", seen)))
    assert seen == [{"StreamARN": FOREIGN_STREAM}], "the stream is read by its ARN, which names its account"
    found = only(report, f"no access to stream orders in account {OWNER}")
    assert found.severity == doctor.Severity.WARNING
    assert f"the stream is in account {OWNER}, the function in 123456789012" in found.evidence
    assert "kinesis:DescribeStreamSummary: AccessDeniedException" in found.evidence
    assert "`kinesis_resource_policy_json` output" in found.fix
    assert f"put-resource-policy --resource-arn {FOREIGN_STREAM}" in found.fix
    assert "operator_role_arns" in found.fix


def test_another_accounts_stream_that_is_not_there_is_critical_and_says_whom_to_ask() -> None:
    report = run(foreign(refusing("ResourceNotFoundException", [])))
    found = only(report, f"stream orders is not there in account {OWNER}")
    assert found.severity == doctor.Severity.CRITICAL
    assert f"ask the owner of account {OWNER}" in found.fix
    assert "kinesis.existing_stream_arn" in found.fix
    assert not [f for f in report.findings if f.title.startswith("no access")]


def test_this_accounts_stream_that_is_gone_names_both_owners_of_a_stream() -> None:
    seen: list[dict[str, Any]] = []
    report = run({**function(), ("kinesis", "describe_stream_summary"): refusing("ResourceNotFoundException", seen)})
    assert seen == [{"StreamARN": STREAM_ARN}]
    found = only(report, "stream alleycat does not exist")
    assert found.severity == doctor.Severity.CRITICAL
    assert "Re-apply the Terraform module if it owns the stream" in found.fix
    assert "kinesis.existing_stream_arn is its owner's to recreate" in found.fix


def test_this_accounts_stream_the_doctor_may_not_read_names_the_permission() -> None:
    report = run({**function(), ("kinesis", "describe_stream_summary"): refusing("AccessDeniedException", [])})
    found = only(report, "could not read stream alleycat")
    assert found.fix.startswith("grant kinesis:DescribeStreamSummary to the identity running the doctor")


def test_another_accounts_stream_that_answers_is_checked_as_any() -> None:
    answer = copy.deepcopy(HEALTHY[("kinesis", "describe_stream_summary")])
    report = run(foreign(answer))
    assert "stream" in report.checked
    assert serious(report) == []
