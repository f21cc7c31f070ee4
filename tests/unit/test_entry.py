"""The command's entry: which stack, which region, which account, and how an error reads.

- ``--json`` errors are JSON on stdout with a non-zero exit, for every command that takes ``--json``;
- with no region configured, the outputs are read first and the region their ARNs name is used;
- the outputs' region is checked against the session before any AWS call, the account with the first;
- ``--terraform-dir`` on a stack never applied says so (real ``terraform``, local backend);
- every ARN but an S3 bucket's names its 12-digit account.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws
from rich.console import Console

from aws_calls import recording
from moto_stack import build, pipeline_outputs
from stream_pipeline_ops import cli
from stream_pipeline_ops.stack import Stack, StackError

if TYPE_CHECKING:
    from pathlib import Path

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers, so any AWS call fails to connect
OUTPUT_COMMANDS = [
    ["doctor"],
    ["redrive"],
    ["alert-test"],
    ["load", "--racers", "1", "--seconds", "1"],
    ["dashboard", "--out", "d.png"],
    ["report", "--out", "r.png"],
]


def write(path: Path, outputs: dict[str, Any]) -> str:
    path.write_text(json.dumps(outputs))
    return str(path)


def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


def json_error(capsys: pytest.CaptureFixture[str], code: int) -> dict[str, Any]:
    """The one JSON document on stdout, and nothing on stderr."""
    out, err = capsys.readouterr()
    printed: dict[str, Any] = json.loads(out)
    assert printed["exit_code"] == code
    assert err == ""
    return printed


# ------------------------------------------------------------------ --json errors
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["doctor", "--outputs", "missing.json"], "Cannot read the outputs file missing.json"),
        (["redrive", "--outputs", "missing.json"], "Cannot read the outputs file missing.json"),
        (["alert-test", "--outputs", "missing.json"], "Cannot read the outputs file missing.json"),
        (["load", "--racers", "0"], "--racers must be from 1 to 1000."),
        (["plan", "--avg-rps", "0"], "Cannot plan this workload: the average rate must be above 0"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
def test_with_json_an_error_is_json_on_stdout_with_a_non_zero_exit(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert cli.main([*argv, "--json"]) == cli.EXIT_STACK
    printed = json_error(capsys, cli.EXIT_STACK)
    assert printed["command"] == argv[0]
    assert message in printed["error"]


def test_with_json_a_usage_error_is_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["plan", "--avg-rps", "fast", "--json"])
    assert done.value.code == cli.EXIT_USAGE
    printed = json_error(capsys, cli.EXIT_USAGE)
    assert printed["command"] == "plan"
    assert "--avg-rps: invalid float value: 'fast'" in printed["error"]


def test_with_json_aws_out_of_reach_is_json_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNREACHABLE)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert cli.main(["doctor", "--function", "alleycat", "--json"]) == cli.EXIT_STACK
    printed = json_error(capsys, cli.EXIT_STACK)
    assert printed["error"].startswith("Cannot reach AWS to read function alleycat")


def test_without_json_an_error_is_a_sentence_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--outputs", "missing.json"]) == cli.EXIT_STACK
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: Cannot read the outputs file missing.json")


# ------------------------------------------------------------------ region and account
@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_outputs_of_another_region_are_refused_before_any_aws_call(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mismatch is visible offline: nothing is called (AWS is unreachable here, which today's
    code reported as "cannot reach AWS"), and the sentence names both regions."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNREACHABLE)
    outputs = write(tmp_path / "outputs.json", pipeline_outputs(region="eu-central-1"))
    with recording() as calls:
        code = cli.main([command[0], "--outputs", outputs, *command[1:]])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert calls.calls == [], calls.table()
    assert "The outputs are of a stack in eu-central-1" in err
    assert "but this session is in us-west-2" in err
    assert "cannot reach AWS" not in err


def test_outputs_of_another_account_are_refused_after_one_call_who_am_i(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        build()
        outputs = write(tmp_path / "outputs.json", pipeline_outputs(account="999999999999"))
        with recording() as calls:
            assert cli.main(["doctor", "--outputs", outputs, "--json"]) == cli.EXIT_STACK
    assert [(c.service, c.operation) for c in calls.calls] == [("sts", "GetCallerIdentity")]
    printed = json_error(capsys, cli.EXIT_STACK)
    assert "a stack in account 999999999999" in printed["error"]
    assert "these credentials are of account 123456789012" in printed["error"]


def test_with_no_region_the_outputs_region_is_used_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_region(monkeypatch)
    with mock_aws():
        stack = build(region="eu-west-1")
        outputs = stack.write_outputs(tmp_path / "outputs.json")
        with recording() as calls:
            code = cli.main(["doctor", "--outputs", str(outputs), "--json"])
    out, err = capsys.readouterr()
    assert "No AWS region is set: using eu-west-1, the region the outputs' ARNs name" in err
    assert json.loads(out)["function"] == stack.name
    assert code in (0, 1, 2)
    assert calls.regions() == {"eu-west-1"}


def test_with_no_region_and_no_outputs_the_sentence_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_region(monkeypatch)
    with recording() as calls:
        assert cli.main(["doctor", "--function", "alleycat", "--json"]) == cli.EXIT_STACK
    printed = json_error(capsys, cli.EXIT_STACK)
    assert printed["error"].startswith("No AWS region: set AWS_DEFAULT_REGION (or AWS_PROFILE with a region)")
    assert "--outputs FILE or --terraform-dir DIR" in printed["error"]
    assert calls.calls == []


def test_with_no_region_a_drawing_from_a_body_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command that reads no outputs still gets the sentence, not boto3's NoRegionError."""
    no_region(monkeypatch)
    metric = {"metrics": [["AWS/Lambda", "Errors", "FunctionName", "alleycat"]], "stat": "Sum", "period": 60}
    body = write(
        tmp_path / "body.json", {"widgets": [{"type": "metric", "width": 6, "height": 6, "properties": metric}]}
    )
    assert cli.main(["dashboard", "--body", body, "--out", str(tmp_path / "d.png")]) == cli.EXIT_STACK
    assert "No AWS region: set AWS_DEFAULT_REGION" in capsys.readouterr().err


# ------------------------------------------------------------------ a stack never applied
TERRAFORM = shutil.which(os.environ.get("TF", "terraform"))


def terraform(directory: Path, *args: str) -> None:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    subprocess.run([str(TERRAFORM), f"-chdir={directory}", *args], check=True, capture_output=True, env=env)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A tiny root module with a local backend and one output, initialized (it needs no provider)."""
    directory = tmp_path / "root"
    directory.mkdir()
    (directory / "main.tf").write_text(
        'terraform {\n  backend "local" {}\n}\n\noutput "queue" {\n  value = "orders"\n}\n'
    )
    terraform(directory, "init", "-input=false", "-no-color")
    return directory


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not on PATH")
def test_a_terraform_dir_never_applied_says_so(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--terraform-dir", str(root)]) == cli.EXIT_STACK
    err = capsys.readouterr().err
    assert f"`terraform output -json` in {root} gives no outputs at all: the stack there was never applied" in err
    assert "Run `terraform apply` there first" in err


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not on PATH")
def test_an_applied_root_without_the_output_is_told_to_re_export_it(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    terraform(root, "apply", "-auto-approve", "-input=false", "-no-color")
    assert cli.main(["doctor", "--terraform-dir", str(root)]) == cli.EXIT_STACK
    err = capsys.readouterr().err
    assert "they have no `stream_pipeline` output" in err
    assert "never applied" not in err


def test_an_empty_outputs_file_says_the_stack_was_never_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = write(tmp_path / "outputs.json", {})
    assert cli.main(["redrive", "--outputs", outputs]) == cli.EXIT_STACK
    assert f"{outputs} holds no outputs at all: the stack there was never applied" in capsys.readouterr().err


# ------------------------------------------------------------------ ARNs name their account
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kinesis:us-east-1::stream/alleycat",
        "arn:aws:kinesis:us-east-1:12345:stream/alleycat",
        "arn:aws:kinesis:us-east-1:1234567890123:stream/alleycat",
    ],
)
def test_an_arn_without_a_12_digit_account_is_refused(arn: str) -> None:
    outputs = pipeline_outputs(stream_arn=arn)
    with pytest.raises(StackError) as refused:
        Stack.from_outputs(outputs)
    assert f'is "{arn}", not an ARN (every ARN but an S3 bucket\'s names its 12-digit account)' in str(refused.value)


def test_a_bucket_arn_names_no_account_and_passes() -> None:
    stack = Stack.from_outputs(pipeline_outputs(destination="s3"))
    assert "arn:aws:s3:::alleycat-failures" in stack.arns
    stack.check_session("us-east-1", "123456789012")


# ------------------------------------------------------------------ a stream of another account
def test_a_stream_of_another_account_is_the_one_arn_that_may_name_it() -> None:
    """kinesis.existing_stream_arn may be another account's stream (in the session's region): the stack's
    own resources must still be the credentials' account."""
    foreign = "arn:aws:kinesis:us-east-1:210987654321:stream/orders"
    outputs = pipeline_outputs(stream_arn=foreign)
    stack = Stack.from_outputs(outputs)
    stack.check_session("us-east-1", "123456789012")
    assert stack.stream_arn == foreign
    consumer = outputs["stream_pipeline"]["value"]["consumers"]["default"]
    consumer["function_arn"] = "arn:aws:lambda:us-east-1:210987654321:function:alleycat"
    with pytest.raises(StackError, match=r"a stack in account 210987654321 .*function:alleycat"):
        Stack.from_outputs(outputs).check_session("us-east-1", "123456789012")
    with pytest.raises(StackError, match="a stack in eu-west-1"):
        Stack.from_outputs(pipeline_outputs(stream_arn=foreign.replace("us-east-1", "eu-west-1"))).check_session(
            "us-east-1", "123456789012"
        )


# ------------------------------------------------------------------ what AWS and the outputs say is text
MARKUP = "[bold]role[/bold] [/] [link=https://example.com]here[/link] [red]"
"""Text that rich would read as markup: tags that restyle or hide what is between them, a closing tag
with nothing open (rich's MarkupError), a hyperlink."""


def plain(text: str) -> str:
    return " ".join(text.split())  # rich folds long lines: compare the words


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_the_doctor_prints_what_aws_answered_as_text(
    terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A finding's evidence quotes AWS's refusal (an IAM message names roles and policies) and its
    area the consumer's key from the outputs: printed as they are, in the lines and in the table."""
    from stream_pipeline_ops import doctor

    def diagnose(_client: Any, function: str, *_: Any, **__: Any) -> doctor.Report:
        report = doctor.Report(checked=["the function"])
        report.add(doctor.Severity.WARNING, f"{function} {MARKUP}", "no access", f"AccessDenied: {MARKUP}", "fix it")
        return report

    monkeypatch.setattr(doctor, "diagnose", diagnose)
    monkeypatch.setattr(cli, "Console", lambda **kw: Console(**kw, force_terminal=terminal, width=400))
    assert cli.main(["doctor", "--function", "alleycat"]) == 1
    out = plain(capsys.readouterr().out)
    assert f"AccessDenied: {MARKUP}" in out
    assert f"alleycat {MARKUP}" in out


def test_the_doctor_s_all_clear_names_the_function_as_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stream_pipeline_ops import doctor

    monkeypatch.setattr(doctor, "diagnose", lambda *_a, **_k: doctor.Report(checked=["the function"]))
    assert cli.main(["doctor", "--function", "[bold]alleycat[/bold]"]) == 0
    assert "No problems found in [bold]alleycat[/bold]: checked the function" in plain(capsys.readouterr().out)


def test_plan_names_the_tfvars_file_it_wrote_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["plan", "--avg-rps", "10", "--tfvars", "race[bold].tfvars"]) == 0
    assert (tmp_path / "race[bold].tfvars").is_file()
    assert "Wrote race[bold].tfvars: terraform plan -var-file=race[bold].tfvars" in capsys.readouterr().out


def test_plan_says_when_it_cannot_write_the_tfvars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-folder" / "race.tfvars"
    assert cli.main(["plan", "--avg-rps", "10", "--tfvars", str(missing), "--json"]) == cli.EXIT_STACK
    printed = json_error(capsys, cli.EXIT_STACK)
    assert printed["error"].startswith(f"Cannot write {missing}: ")


def test_with_json_a_redrive_request_error_is_json_before_any_aws_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNREACHABLE)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert cli.main(["redrive", "--function", "alleycat", "--limit", "0", "--json"]) == cli.EXIT_USAGE
    printed = json_error(capsys, cli.EXIT_USAGE)
    assert (printed["command"], printed["error"]) == (
        "redrive",
        "--limit must be from 1 to 10,000 (failures a run reads).",
    )


@pytest.fixture
def redrive_world(monkeypatch: pytest.MonkeyPatch) -> None:
    from stream_pipeline_ops.redrive import paths

    monkeypatch.setattr(paths, "RECEIVE_WAIT_S", 0)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.mark.usefixtures("redrive_world")
def test_with_json_a_sequence_number_the_failure_path_lacks_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    """A RequestError found once the failure path is read (the operator named a record it does not hold)."""
    with mock_aws():
        build()
        code = cli.main(["redrive", "--function", "alleycat", "--discard", "4" * 56, "--reason", "gone", "--json"])
    assert code == cli.EXIT_USAGE
    printed = json_error(capsys, cli.EXIT_USAGE)
    assert printed["command"] == "redrive"
    assert "no failure in the failure path holds this sequence number; nothing was changed" in printed["error"]


@pytest.mark.usefixtures("redrive_world")
def test_with_json_a_redrive_that_cannot_start_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        build()
        code = cli.main(["redrive", "--function", "[bold]missing[/bold]", "--json"])
    assert code == cli.EXIT_STACK
    printed = json_error(capsys, cli.EXIT_STACK)
    assert printed["error"].startswith("Cannot read function [bold]missing[/bold]: ")


@pytest.mark.usefixtures("redrive_world")
def test_without_json_a_redrive_error_is_a_sentence_on_stderr_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        build()
        code = cli.main(["redrive", "--function", "[bold]missing[/bold]"])
    out, err = capsys.readouterr()
    assert (code, out) == (cli.EXIT_STACK, "")
    assert plain(err).startswith("error: Cannot read function [bold]missing[/bold]: ")
