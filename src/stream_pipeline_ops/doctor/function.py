"""The function and its concurrency: state, last deployment, errors, throttles, duration, and
whether the stream's batches can all run at once (a reservation, or the account's unreserved pool).

The function is the one thing the doctor cannot do without: no credentials, no such function,
or a function it may not read, and :class:`~stream_pipeline_ops.stack.StackError` says so
(``stream-pipeline`` exits 3). Everything else it cannot read is a finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stream_pipeline_ops.doctor.context import BUSY_SHARE, Context
from stream_pipeline_ops.doctor.reader import DENIED, MISSING, MetricKey, Reader, metric_key, warn_on_any
from stream_pipeline_ops.doctor.report import Severity
from stream_pipeline_ops.stack import StackError

if TYPE_CHECKING:
    from typing import Any

AREA: Final = "function"
LEAST_UNRESERVED: Final = 100  # Lambda refuses a reservation that leaves the account fewer unreserved
CONCURRENCY_QUOTA: Final = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"
REFUSED_CREDENTIALS: Final = (
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
)


def planned(ctx: Context) -> list[MetricKey]:
    function = {"FunctionName": ctx.function_name}
    wanted = [metric_key("AWS/Lambda", name, function, "Sum") for name in ("Errors", "Throttles")]
    wanted.append(metric_key("AWS/Lambda", "Duration", function, "Maximum"))
    wanted.append(metric_key("AWS/Lambda", "ConcurrentExecutions", {}, "Maximum"))  # the account's, all functions
    return wanted


def read_function(read: Reader, name: str) -> dict[str, Any]:
    """GetFunctionConfiguration, or a StackError that says what is missing."""
    lam = read.client("lambda")
    region = getattr(getattr(lam, "meta", None), "region_name", None)
    where = f" in {region}" if region else ""
    try:
        found: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    except NoCredentialsError:
        raise StackError(
            "No AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from None
    except BotoCoreError as exc:
        raise StackError(
            f"Cannot reach AWS to read function {name}: {str(exc)[:200]}. "
            "Check AWS_DEFAULT_REGION and AWS_ENDPOINT_URL."
        ) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "")[:160]
        if code in MISSING:
            raise StackError(
                f"There is no function {name}{where} ({code}): check --function or the outputs, and AWS_DEFAULT_REGION."
            ) from None
        if code in REFUSED_CREDENTIALS:
            raise StackError(
                f"AWS refused the credentials ({code}: {message}); renew them or set AWS_PROFILE."
            ) from None
        if code in DENIED or "AccessDenied" in code:
            raise StackError(
                f"Cannot read function {name}{where} ({code}): grant lambda:GetFunctionConfiguration "
                "to the identity running the doctor."
            ) from None
        raise StackError(f"Cannot read function {name}{where} ({code}: {message}); retry.") from None
    return found


def check_function(read: Reader, ctx: Context, name: str) -> None:
    found = ctx.function = read_function(read, name)
    read.report.checked.append(AREA)
    state, update = found.get("State", "Active"), found.get("LastUpdateStatus")
    state_code, update_code = found.get("StateReasonCode"), found.get("LastUpdateStatusReasonCode")
    if state_code in ENI_PROBLEMS or (update == "Failed" and update_code in ENI_PROBLEMS):
        check_network(read, found)
    elif state == "Pending" and vpc_subnets(found):
        read.report.add(
            Severity.WARNING,
            AREA,
            "the function is Pending: Lambda is still creating its network interfaces in the VPC",
            f"State=Pending, StateReasonCode={state_code or '-'}, StateReason={found.get('StateReason', '-')}; "
            f"subnets {', '.join(vpc_subnets(found))}",
            "it takes about a minute the first time a function joins a VPC (or a new subnet and security group "
            "pair); run the doctor again. If it stays Pending, the next run names why (State and its reason code)",
        )
    elif state == "Inactive":
        read.report.add(
            Severity.WARNING,
            AREA,
            "the function is Inactive: idle long enough for Lambda to reclaim its resources",
            f"State=Inactive, StateReasonCode={state_code or '-'}, StateReason={found.get('StateReason', '-')}",
            "the next invocation makes it Pending, then Active; a consumer that stays idle has no records or a "
            "stopped mapping (see the event source mapping)",
        )
    elif state != "Active":
        read.report.add(
            Severity.CRITICAL,
            AREA,
            f"the function is {state}",
            f"State={state}, StateReasonCode={state_code or '-'}, StateReason={found.get('StateReason', '-')}",
            "read StateReason; re-apply the module to redeploy the function",
        )
    if update == "Failed" and update_code not in ENI_PROBLEMS:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "the last deployment of the function failed",
            f"LastUpdateStatus=Failed, reason {found.get('LastUpdateStatusReason', '-')}",
            "fix the reason and re-apply; the function runs its previous code until then",
        )


class EniProblem(NamedTuple):
    what: str  # what the reason code means
    fix: str  # what to change


# Lambda's reason codes for a function that cannot get its network interfaces in the VPC (State or
# LastUpdateStatus, with StateReasonCode / LastUpdateStatusReasonCode; AWS Lambda Developer Guide,
# "Lambda function states" and "Giving Lambda functions access to resources in an Amazon VPC"): what it
# means, and what to change. The role's ENI actions are those of AWSLambdaVPCAccessExecutionRole.
ENI_ACTIONS: Final = (
    "ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ec2:DeleteNetworkInterface, "
    "ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses"
)
ENI_PROBLEMS: Final = {
    "EniLimitExceeded": EniProblem(
        what="the VPC has no network interface left for it: its Lambda (Hyperplane) ENI quota is reached",
        fix="each subnet and security group pair takes an interface, shared by the functions that use the same pair: "
        "give this function the subnets and security groups of the others (function.vpc_subnet_ids, "
        "function.vpc_security_group_ids), delete unused function versions that still hold one, or ask for more "
        "(Service Quotas, Amazon VPC, Elastic network interfaces per VPC; 500 by default), then re-apply",
    ),
    "InsufficientRolePermissions": EniProblem(
        what="its role may not create network interfaces in the VPC",
        fix=f"the function's role needs {ENI_ACTIONS} (the module grants them with function.vpc_subnet_ids; a "
        "permissions boundary (role_permissions_boundary) or an organization SCP that denies them blocks it): "
        "allow them, then re-apply to retry",
    ),
    "SubnetOutOfIPAddresses": EniProblem(
        what="a subnet it uses has no free IP address for its network interface",
        fix="free addresses in the subnets, or give function.vpc_subnet_ids larger subnets (Lambda needs free "
        "addresses in each), then re-apply",
    ),
    "InvalidSubnet": EniProblem(
        what="a subnet it names does not exist or cannot be used",
        fix="check function.vpc_subnet_ids (aws ec2 describe-subnets --subnet-ids ...): subnets of this account and "
        "region, in the security groups' VPC; fix them and re-apply",
    ),
    "InvalidSecurityGroup": EniProblem(
        what="a security group it names does not exist or is in another VPC",
        fix="check function.vpc_security_group_ids (aws ec2 describe-security-groups --group-ids ...): groups of the "
        "subnets' VPC; fix them and re-apply",
    ),
    "EC2RequestLimitExceeded": EniProblem(
        what="EC2 throttled Lambda's calls to create its network interfaces",
        fix="Lambda retries; if it persists, look for other automation calling the EC2 API in the account and region",
    ),
}


def vpc_subnets(function: dict[str, Any]) -> list[str]:
    subnets: list[str] = function.get("VpcConfig", {}).get("SubnetIds") or []
    return subnets


def check_network(read: Reader, function: dict[str, Any]) -> None:
    """A function stuck on its network interfaces in the VPC: which reason, and its fix."""
    failed_update = function.get("LastUpdateStatus") == "Failed"
    code = function.get("StateReasonCode")
    reason = function.get("StateReason", "-")
    if code not in ENI_PROBLEMS and failed_update:
        code, reason = function.get("LastUpdateStatusReasonCode"), function.get("LastUpdateStatusReason", "-")
    what, fix = ENI_PROBLEMS[str(code)]
    vpc = function.get("VpcConfig", {})
    groups = ", ".join(vpc.get("SecurityGroupIds") or []) or "-"
    where = (
        f"VPC {vpc.get('VpcId') or '-'}, subnets {', '.join(vpc_subnets(function)) or '-'}, security groups {groups}"
    )
    status = (
        f"State={function.get('State', '-')}, StateReasonCode={function.get('StateReasonCode', '-')}; "
        f"LastUpdateStatus={function.get('LastUpdateStatus', '-')}, "
        f"LastUpdateStatusReasonCode={function.get('LastUpdateStatusReasonCode', '-')}"
    )
    stuck = "its last update failed" if function.get("State") == "Active" else "it cannot run"
    read.report.add(
        Severity.CRITICAL,
        AREA,
        f"the function is stuck on its network interfaces ({code}): {what}",
        f"{status}; {reason}; {where}",
        f"{fix}. Until then {stuck}",
    )


def shards_text(ctx: Context) -> str:
    if ctx.on_demand:
        return f"{ctx.concurrency_shards} shard(s) (on-demand: {ctx.shards or 0} open, at least 4)"
    return f"{ctx.concurrency_shards} shard(s)"


def check_concurrency(read: Reader, ctx: Context) -> None:
    """A reservation below shards x parallelization factor throttles the consumer by itself; no
    reservation leaves it to share the unreserved pool with every other function of the account."""
    name = ctx.function_name
    found = read.call(
        AREA,
        "the reserved concurrency",
        "lambda:GetFunctionConcurrency",
        "lambda",
        "get_function_concurrency",
        FunctionName=name,
    )
    shards = ctx.concurrency_shards
    if found is None or not shards:
        return
    reserved = ctx.reserved = found.get("ReservedConcurrentExecutions")
    pf = ctx.parallelization
    needed = shards * pf
    if reserved is None:
        check_unreserved(read, ctx, needed)
    elif reserved < needed:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "reserved concurrency is below what the stream needs: it throttles itself",
            f"ReservedConcurrentExecutions={reserved} < {shards_text(ctx)} x parallelization factor {pf} = {needed}",
            f"aws lambda put-function-concurrency --function-name {name} --reserved-concurrent-executions {needed}"
            " (or set function.reserved_concurrency and re-apply)",
        )


def check_unreserved(read: Reader, ctx: Context, needed: int) -> None:
    """The unreserved pool minus the account's peak in use (this function included) must leave
    room for every shard's batches; else a busy neighbour throttles the consumer and it lags."""
    settings = read.call(
        AREA, "the account's concurrency", "lambda:GetAccountSettings", "lambda", "get_account_settings"
    )
    limit = (settings or {}).get("AccountLimit", {})
    unreserved, quota = limit.get("UnreservedConcurrentExecutions"), limit.get("ConcurrentExecutions")
    if unreserved is None or quota is None:
        return
    peak = max(read.metric("AWS/Lambda", "ConcurrentExecutions", {}, "Maximum"), default=0.0)
    free = max(unreserved - peak, 0.0)
    if free >= needed:
        return
    name = ctx.function_name
    if unreserved >= needed + LEAST_UNRESERVED:
        fix = (
            f"reserve what the stream needs: aws lambda put-function-concurrency --function-name {name} "
            f"--reserved-concurrent-executions {needed} (or set function.reserved_concurrency = {needed} and "
            f"re-apply); the account keeps {unreserved - needed:,} unreserved, at least the {LEAST_UNRESERVED} "
            "Lambda requires"
        )
    else:
        wanted = quota + needed + LEAST_UNRESERVED - unreserved
        fix = (
            f"the account cannot reserve {needed} and keep the {LEAST_UNRESERVED} unreserved Lambda requires: "
            f"ask for a Lambda concurrent executions quota of at least {wanted:,} (aws service-quotas "
            f"request-service-quota-increase --service-code lambda --quota-code {CONCURRENCY_QUOTA} "
            f"--desired-value {wanted}), then reserve {needed}"
        )
    read.report.add(
        Severity.WARNING,
        AREA,
        "the consumer has no reserved concurrency and the account's other functions can starve it",
        f"UnreservedConcurrentExecutions={unreserved:,} (account quota {quota:,}) minus the peak in use "
        f"{peak:,.0f} (ConcurrentExecutions, all functions, last {read.minutes} min) leaves {free:,.0f} "
        f"< {shards_text(ctx)} x parallelization factor {ctx.parallelization} = {needed}",
        fix,
    )


def check_function_metrics(read: Reader, ctx: Context) -> None:
    fn = {"FunctionName": ctx.function_name}
    warn_on_any(
        read,
        AREA,
        "AWS/Lambda",
        "Errors",
        fn,
        title="the function failed invocations",
        fix="read the log group for the error; a timeout wants smaller batches or more memory",
    )
    warn_on_any(
        read,
        AREA,
        "AWS/Lambda",
        "Throttles",
        fn,
        title="the function was throttled",
        fix="raise reserved concurrency or the account limit",
    )
    timeout_ms = float(ctx.function.get("Timeout", 3)) * 1000
    slowest = max(read.metric("AWS/Lambda", "Duration", fn, "Maximum"), default=0.0)
    if slowest >= BUSY_SHARE * timeout_ms:
        read.report.add(
            Severity.WARNING,
            AREA,
            "invocations come close to the timeout",
            f"Duration max {slowest:,.0f} ms vs timeout {timeout_ms:,.0f} ms",
            "smaller batches, more memory, or look for a throttled sink",
        )
