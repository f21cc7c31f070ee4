"""``stream-pipeline``: one command for the people who run the pipeline.

    stream-pipeline doctor --terraform-dir examples/kinesis-alleycat
    terraform output -json | stream-pipeline doctor --outputs -
    stream-pipeline doctor --function alleycat --json
    stream-pipeline redrive --terraform-dir examples/kinesis-alleycat          # dry run: what would pass now
    stream-pipeline redrive --terraform-dir examples/kinesis-alleycat --apply
    stream-pipeline redrive --outputs outputs.json --apply --settle 4959... --as retry --reason "not in the stream"
    stream-pipeline dashboard --outputs outputs.json --out dashboard.png
    stream-pipeline report --outputs outputs.json --out race-report.png
    stream-pipeline plan --avg-rps 1000 --record-bytes 200 --keys 1000 --tfvars race.tfvars
    stream-pipeline load --outputs outputs.json --racers 1000 --seconds 60
    stream-pipeline alert-test --outputs outputs.json                         # a test page, seen delivered

The stack comes from ``terraform output -json`` (``--outputs FILE`` or ``-`` for stdin, or
``--terraform-dir DIR``) or from explicit names; the endpoint, region and credentials from the
usual AWS variables (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``), so the same
command works against a real account and against LocalStack (``plan`` needs none of them).
Outputs are used only when they are this module's (the ``stream_pipeline`` output) and every ARN
in them is in the session's region and account; otherwise the command refuses them and says why
(the region before any AWS call, the account with the first). With no region configured, the
command reads the outputs first and uses the region their ARNs name, saying so.
``stream-pipeline --version`` prints the version (the module's ``stream_pipeline`` output says the same).

Errors are one sentence on stderr; with ``--json``, a JSON object on stdout instead
(``{"command": ..., "error": ..., "exit_code": ...}``), with the same non-zero exit status.

Exit status: ``doctor`` 0 healthy, 1 warnings, 2 something critical, 3 no stack (no credentials,
no such function); ``alert-test`` 0 when the test page was seen delivered, 1 otherwise; ``redrive`` 0 when nothing is
left unresolved (still failing, expired, in doubt, forged, foreign, or a settle or discard that
could not be done), 1 otherwise, 64 for a request the failure path cannot satisfy (an unknown
sequence number); ``load`` 0 when every record
was accepted, 1 otherwise; ``plan``, ``dashboard`` and ``report`` 0 when written; 3 when the
stack could not be found or reached (or the workload cannot be planned); 64 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stream_pipeline_ops import __version__, alerting, doctor, live, load, planner, redrive, render
from stream_pipeline_ops.doctor.alarms import own as own_alarms
from stream_pipeline_ops.stack import NO_REGION, Stack, StackError, resolve

EXIT_STACK: int = 3
EXIT_USAGE: int = 64
STYLE = {doctor.Severity.CRITICAL: "bold red", doctor.Severity.WARNING: "yellow", doctor.Severity.INFO: "cyan"}


class Parser(argparse.ArgumentParser):
    json_errors = False  # set on every parser when the command line asks for --json

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            command = self.prog.removeprefix("stream-pipeline").strip() or None
            print(error_json(command, f"{self.prog}: {message}", EXIT_USAGE))
            self.exit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def error_json(command: str | None, message: str, code: int) -> str:
    """An error as the JSON a script reads on stdout: the command, the sentence and the exit status."""
    return json.dumps({"command": command, "error": message, "exit_code": code}, indent=2)


def notice(text: str) -> None:
    """A line for the person running the command, on stderr (stdout stays the command's output)."""
    Console(stderr=True, soft_wrap=True).print(Text(text), highlight=False)


def stack_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("which stack")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--outputs", metavar="FILE", help="`terraform output -json` of the stack (- for stdin)")
    source.add_argument("--terraform-dir", metavar="DIR", help="run `terraform output -json` in DIR")
    group.add_argument("--function", help="the consumer function's name (overrides the outputs)")
    group.add_argument(
        "--consumer", metavar="KEY", help="which consumer of a stack with several: its key (or its function's name)"
    )


def command(
    commands: Any, name: str, summary: str, module: Any, run: Any, *, stack: bool = True
) -> argparse.ArgumentParser:
    """One subcommand: its one-line help, its module's docstring as the description, the stack options."""
    sub: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if stack:
        stack_options(sub)
    sub.set_defaults(run=run)
    return sub


def stack_of(args: argparse.Namespace) -> Stack:
    """The stack, narrowed to the consumer asked for (``--consumer`` or ``--function``), if any."""
    if args.consumer and args.outputs is None and args.terraform_dir is None:
        raise StackError(
            "--consumer KEY picks one of the stack's consumers: give the stack's outputs too "
            "(--outputs FILE or --terraform-dir DIR), or name the function with --function NAME."
        )
    return resolve(
        args.outputs, args.terraform_dir, function=args.consumer or args.function, client=client, note=notice
    )


def function_of(args: argparse.Namespace) -> tuple[Stack, str]:
    """The stack, and its one function's name: the commands that act on one consumer start from it."""
    stack = stack_of(args)
    if stack.function_name is None and stack.consumers:
        stack.consumer(None)  # several consumers: says which exist and how to choose
    if stack.function_name is None:
        raise StackError("No function: pass --function NAME, --outputs FILE or --terraform-dir DIR.")
    return stack, stack.function_name


def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]  # service is a runtime name


def run_doctor(args: argparse.Namespace, console: Console) -> int:
    """One consumer (the only one, or the one asked for), or each of a stack's consumers in turn, the
    stream's findings reported once."""
    stack = stack_of(args)
    if stack.function_name is not None:
        targets: list[tuple[str | None, str]] = [(None, stack.function_name)]
    elif len(stack.consumers) > 1:
        targets = [(c.key, c.function_name) for c in stack.consumers]
    else:
        raise StackError("No function: pass --function NAME, --outputs FILE or --terraform-dir DIR.")
    report = diagnose_each(stack, targets, args)
    if args.json:
        print(
            json.dumps(
                {
                    "function": targets[0][1] if len(targets) == 1 else None,
                    "consumers": {key: function for key, function in targets if key is not None},
                    "checked": report.checked,
                    "findings": [f.as_dict() for f in report.sorted()],
                    "exit_code": report.exit_code,
                },
                indent=2,
            )
        )
    else:
        names = ", ".join(function for _, function in targets)
        label = targets[0][1] if len(targets) == 1 else f"{len(targets)} consumers ({names})"
        show_findings(report, label, args.minutes, console)
    return report.exit_code


def diagnose_each(stack: Stack, targets: list[tuple[str | None, str]], args: argparse.Namespace) -> doctor.Report:
    """The doctor's report for each consumer, in one: a consumer's findings named after its key (when
    there are several), the stream's once."""
    report = doctor.Report()
    seen: set[tuple[str, str, str]] = set()
    for key, function in targets:
        found = doctor.diagnose(
            client, function, args.topic or stack.sns_topic_arn, minutes=args.minutes,
            ledger_table=stack.redrive_ledger_table_arn,
        )  # fmt: skip
        for finding in found.findings:
            if finding.area == doctor.STREAM_AREA:  # the same stream for every consumer
                if (finding.area, finding.title, finding.evidence) in seen:
                    continue
                seen.add((finding.area, finding.title, finding.evidence))
                report.findings.append(finding)
            else:
                report.findings.append(finding if key is None else replace(finding, area=f"{key}: {finding.area}"))
        report.checked.extend(c for c in found.checked if c not in report.checked)
    return report


def show_findings(report: doctor.Report, label: str, minutes: int, console: Console) -> None:
    findings = report.sorted()
    """Findings quote what AWS answered and name what the outputs say: every one is printed as Text."""
    findings = report.sorted()
    if not [f for f in findings if f.severity > doctor.Severity.INFO]:
        console.print(
            Text.assemble(
                ("No problems found", "green"),
                f" in {label}: checked {', '.join(report.checked)} over the last {minutes} minutes.",
            ),
            soft_wrap=True,
        )
    if findings and not console.is_terminal:  # plain lines for logs and pipes, as brew doctor prints
        for f in findings:
            console.print(Text(f"{f.severity}: {f.area}: {f.title}"), highlight=False, soft_wrap=True)
            console.print(Text(f"  evidence: {f.evidence}"), highlight=False, soft_wrap=True)
            console.print(Text(f"  fix: {f.fix}"), highlight=False, soft_wrap=True)
    elif findings:
        table = Table(title=Text(f"stream-pipeline doctor: {label}"), show_lines=True)
        for column in ("severity", "area", "finding", "evidence", "fix"):
            table.add_column(column, overflow="fold")
        for f in findings:
            table.add_row(
                Text(str(f.severity), STYLE[f.severity]), *(Text(t) for t in (f.area, f.title, f.evidence, f.fix))
            )
        console.print(table)


def run_load(args: argparse.Namespace, console: Console) -> int:
    if not 1 <= args.racers <= 1000:
        raise StackError("--racers must be from 1 to 1000.")
    if args.seconds < 1:
        raise StackError("--seconds must be at least 1.")
    if not 0 <= args.buffer_ms <= 60_000:
        raise StackError("--buffer-ms must be from 0 to 60000 (milliseconds).")
    if not 1_000 <= args.metrics_upload_delay_ms <= load.DEFAULT_UPLOAD_DELAY_MS:
        raise StackError("--metrics-upload-delay-ms must be from 1000 to 60000 (milliseconds).")
    stack = resolve(args.outputs, args.terraform_dir, stream=args.stream, table=args.table, note=notice)
    live.check_load(client, stack)  # the stream (or table) the consumers' live mappings read, or a refusal
    if args.stream is None and args.table is None and stack.source_table_name is not None:
        stack = Stack(source_table_name=stack.source_table_name)  # a DynamoDB stack: write its source table
    if stack.stream_name is None and stack.source_table_name is None:
        raise StackError(
            "Nothing to load: pass --stream NAME or --table NAME, or the stack's outputs (--outputs FILE, "
            "--terraform-dir DIR). After `make up`, `make load` finds the stack by itself."
        )
    if stack.source_table_name and args.aggregate:
        raise StackError("--aggregate packs messages into Kinesis records; a DynamoDB source table takes items.")
    if stack.source_table_name:
        target: load.KinesisTarget | load.TableTarget = load.TableTarget(stack.source_table_name)
    else:
        stream = stack.stream_name or ""
        metrics = (
            None
            if args.no_producer_metrics
            else load.ProducerMetrics(stream, upload_delay_s=args.metrics_upload_delay_ms / 1000)
        )
        target = load.KinesisTarget(stream, aggregate=args.aggregate, buffer_ms=args.buffer_ms, metrics=metrics)
    summary = load.run(target, racers=args.racers, seconds=args.seconds, race_id=args.race_id, seed=args.seed)
    if args.json:
        print(
            json.dumps(
                {**asdict(summary), "achieved_rate": summary.achieved_rate, "judgement": load.judgement(summary)}
            )
        )
    else:
        carried = f" in {summary.kinesis_records:,} Kinesis records" if summary.aggregated else ""
        console.print(
            Text(
                f"race {args.race_id}: {summary.records_sent:,} records sent to {summary.target}{carried} "
                f"in {summary.duration_s:.1f} s ({summary.achieved_rate:,.0f}/s achieved); "
                f"acknowledged {summary.acknowledged:,}, throttled {summary.throttled:,}, "
                f"retried {summary.retried:,}, failed after retries {summary.failed_after_retries:,}"
                + (
                    f"; producer metrics in {summary.metric_calls} PutMetricData call(s)"
                    if summary.metric_calls
                    else ""
                )
            ),
            highlight=False,
            soft_wrap=True,
        )
        console.print(Text(f"rate: {load.judgement(summary)}"), highlight=False, soft_wrap=True)
    return 0 if summary.failed_after_retries == 0 else 1


def run_redrive(args: argparse.Namespace, console: Console) -> int:
    stack, function = function_of(args)
    options = redrive.Options(
        apply=args.apply,
        check=not args.no_check,
        processor=args.processor,
        discard=frozenset(args.discard),
        settle=frozenset(args.settle),
        settle_as=args.settle_as,
        reason=args.reason or "",
        discard_log=Path(args.discard_log) if args.discard_log else None,
        keep_payload=args.keep_payload,
        from_archive=args.from_archive,
        limit=args.limit,
    )
    notices = Console(stderr=True, soft_wrap=True) if args.json else console  # --json keeps stdout for the JSON

    def announce(line: str) -> None:
        notices.print(Text(line), highlight=False, soft_wrap=True)

    try:
        options.validate()  # a usage error before any AWS call
        consumer = stack.consumer(function)
        target = redrive.from_stack(client, stack, consumer) if consumer else redrive.discover(client, function)
        with console.status(Text("reading the failure path")) as status:
            summary = redrive.redrive(
                client, target, options, announce=announce,
                progress=lambda f: status.update(Text(f"{f.origin} {redrive.shown(f.ident, 60)}")),
            )  # fmt: skip
    except redrive.RequestError as exc:
        return fail(args, str(exc), EXIT_USAGE)
    except redrive.RedriveError as exc:  # it can quote what AWS answered: fail prints it as text
        return fail(args, str(exc), EXIT_STACK)
    if args.json:
        print(json.dumps({"applied": args.apply, "unresolved": summary.unresolved, **asdict(summary)}, indent=2))
    else:
        print_redrive(summary, target, args.apply, console)
    return 0 if summary.unresolved == 0 else 1


def print_redrive(summary: redrive.Summary, target: redrive.Target, applied: bool, console: Console) -> None:
    """The summary table, then what needs a person. Everything that came from AWS, the failure path or
    the ledger is escaped and printed as plain Text, never parsed as markup."""
    mode = "--apply" if applied else "(dry run)"
    table = Table(title=Text(f"stream-pipeline redrive {mode}: {redrive.shown(target.function_name, 80)}"))
    table.add_column("")
    table.add_column("count", justify="right")
    rows = [
        ("failures read", summary.failures),
        ("foreign items (left alone)", len(summary.foreign)),
        ("records fetched from the stream", summary.fetched),
        ("passing the check" if applied else "would pass now", summary.would_pass),
        ("re-delivered to the function", summary.redelivered),
        ("  of them from the archive's copy", summary.from_archive),
        ("  of them already applied (skipped)", summary.skipped_by_function),
        ("passing, not delivered (see below)", summary.not_delivered),
        ("still failing", summary.still_failing),
        ("discarded" if applied else "would be discarded", summary.discarded),
        ("settled" if applied else "would be settled", summary.settled),
        ("expired", summary.expired),
        ("already redriven", summary.already_done),
        ("in doubt", summary.in_doubt),
        ("forged ledger entries", summary.forged),
        ("failures closed", summary.closed),
    ]
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    console.print(table)
    for line in redrive_notes(summary, applied):
        console.print(Text(line), highlight=False, soft_wrap=True)


def redrive_notes(summary: redrive.Summary, applied: bool) -> list[str]:
    """One line per thing a person should look at, most actionable first (every value already escaped)."""
    notes: list[str] = []
    if summary.queued is not None and summary.seen < summary.queued and not applied and not summary.more:
        notes.append(
            f"Read {summary.seen:,} of about {summary.queued:,} queued messages: a dry run hides none, so SQS "
            "may show it the same ones again; --apply reads them all."
        )
    if summary.more:
        notes.append(
            f"Stopped after {summary.failures:,} failures ({summary.seen:,} items read): the next --apply run goes on "
            "from there (--limit N reads more)."
        )
    notes += [f"  still failing ({n:,}): {why}" for why, n in sorted(summary.reasons.items(), key=lambda kv: -kv[1])]
    notes += [
        f"  foreign {item.origin} item {redrive.shown(item.ident, 120)}: {item.reason}; left as it was"
        for item in summary.foreign
    ]
    notes += [f"  forged ledger entry (its MAC does not verify; not trusted): {key}" for key in summary.forged_entries]
    notes += [f"  in doubt: {record}" for record in summary.in_doubt_records]
    if summary.in_doubt_records:
        notes.append(
            "  A record in doubt was claimed but its delivery never confirmed. Check the consumer's sink for it, then "
            "--settle SEQUENCE --as done|retry --reason TEXT --apply (delivering it again changes nothing it applied)."
        )
    if summary.expired:
        notes.append(
            f"  {summary.expired:,} record(s) are past the stream's retention. An archive object's copies can be "
            "delivered with --from-archive, which prints each copy's sha256 first; a queue message holds no copy."
        )
    notes += [f"  not done: {refusal}" for refusal in summary.refused]
    notes += [f"  delivery stopped: {error}" for error in summary.errors]
    if not applied and summary.would_pass:
        notes.append("Dry run: nothing was delivered. Run again with --apply to deliver the passing records.")
    return notes


def consumer_arg(text: str) -> planner.Consumer:
    try:
        return planner.parse_consumer(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}.") from None


def print_plan(result: planner.Plan, console: Console) -> None:
    """The settings with their reasons, the write options side by side when there are two, and the
    cost: tables on a terminal; plain lines, never wrapped, for logs and pipes."""
    prices = planner.REGION_PRICES.get(result.region)
    unverified = " (enhanced fan-out prices not re-verified)" if result.cost.get("Kinesis enhanced fan-out") else ""
    cost_title = (
        f"monthly cost estimate, USD ({result.region} list prices recorded {planner.PRICES_RECORDED}){unverified}"
        if prices
        else f"no monthly cost estimate: the price table has no {result.region} prices "
        f"(it has {', '.join(planner.REGION_PRICES)}), and the planner does not guess them"
    )
    if console.is_terminal:
        print_plan_tables(result, cost_title, console)
    else:
        print_plan_lines(result, cost_title, console)


def print_plan_lines(result: planner.Plan, cost_title: str, console: Console) -> None:
    """One line per setting and one per reason, as long as they are: a pipe or a log never breaks a word."""

    def line(text: str) -> None:
        console.print(Text(text), highlight=False, soft_wrap=True)

    for setting, value, why in planner.rows(result):
        if value:
            line(f"{setting}: {value}")
            line(f"  why: {why}")
        else:
            line(f"{setting}: {why}")
    if len(result.options) > 1:
        line("write options (shards, parallelization factor, added latency, USD/month):")
        for option in planner.option_rows(result):
            line(f"  {option[0]}: {', '.join(option[1:])}")
    line(cost_title + (":" if result.cost else "."))
    for service, usd in result.cost.items():
        line(f"  {service}: {usd:,.2f}")


def print_plan_tables(result: planner.Plan, cost_title: str, console: Console) -> None:
    table = Table(title="stream-pipeline plan", show_lines=True)
    for column in ("setting", "value", "why"):
        table.add_column(column, overflow="fold")
    for row in planner.rows(result):
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    if len(result.options) > 1:
        options = Table(title="write options: more shards, or KPL aggregation on the producers")
        for column in ("option", "shards", "parallelization factor", "added latency", "USD / month"):
            options.add_column(column, justify="left" if column == "option" else "right")
        for option in planner.option_rows(result):
            options.add_row(*option)
        console.print(options)
    if not result.cost:
        console.print(Text(cost_title), highlight=False)
        return
    costs = Table(title=cost_title)
    costs.add_column("service")
    costs.add_column("USD / month", justify="right")
    for service, usd in result.cost.items():
        costs.add_row(service, f"{usd:,.2f}")
    console.print(costs)


def run_plan(args: argparse.Namespace, console: Console) -> int:
    work = planner.Workload(
        avg_rps=args.avg_rps,
        peak_rps=args.peak_rps or args.avg_rps,
        record_bytes=args.record_bytes,
        consumers=tuple(args.consumer) if args.consumer else args.consumers,
        per_record_ms=args.per_record_ms,
        sink_writes_per_record=args.sink_writes_per_record,
        keys=args.keys,
        retention_hours=args.retention_hours,
        latency_target_s=args.latency_target_s,
        account_concurrency=args.account_concurrency,
        producers_can_aggregate=args.producers_can_aggregate,
        producers=args.producers,
        partition_key_bytes=args.partition_key_bytes,
        aggregation_max_bytes=args.aggregation_max_bytes,
        region=args.region,
    )
    try:
        result = planner.plan(work)
    except ValueError as exc:
        raise StackError(f"Cannot plan this workload: {exc}.") from None
    if args.tfvars:
        text = planner.tfvars_hcl(result) if args.tfvars.endswith(".tfvars") else json.dumps(result.tfvars(), indent=2)
        try:
            Path(args.tfvars).write_text(text)
        except OSError as exc:
            raise StackError(f"Cannot write {args.tfvars}: {exc.strerror or exc}.") from None
    if args.json:
        print(json.dumps(planner.as_json(result), indent=2))
        return 0
    print_plan(result, console)
    if args.tfvars:
        console.print(
            Text(f"Wrote {args.tfvars}: terraform plan -var-file={args.tfvars}"), highlight=False, soft_wrap=True
        )
    return 0


def run_dashboard(args: argparse.Namespace, console: Console) -> int:
    if args.body:
        try:
            body = json.loads(Path(args.body).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StackError(f"Cannot read the dashboard body {args.body}: {exc}.") from None
        name = Path(args.body).stem
    else:
        stack = stack_of(args)
        name = args.name or stack.dashboard_name or ""
        if not name:
            raise StackError("No dashboard: pass --name NAME, --body FILE, or the stack's outputs (--outputs FILE).")
        try:
            body = json.loads(client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
        except ClientError as exc:
            raise StackError(f"Cannot read dashboard {name}: {exc.response['Error'].get('Message', exc)}") from None
        if args.consumer and len(stack.consumers) == 1:
            key = stack.consumers[0].key
            body = render.one_consumer(body, key)
            name = f"{name} ({key})"
    return draw(body, f"{name}: last {args.minutes} minutes", args, console)


def draw(body: dict[str, Any], title: str, args: argparse.Namespace, console: Console) -> int:
    """Render a dashboard body to ``args.out`` and say what was drawn."""
    drawn = render.render(body, client, Path(args.out), title=title, minutes=args.minutes)
    points = sum(w.get("points", 0) for w in drawn.widgets)
    console.print(
        Text(f"Wrote {args.out}: {len(drawn.widgets)} widgets, {points:,} datapoints."), highlight=False, soft_wrap=True
    )
    return 0


def run_report(args: argparse.Namespace, console: Console) -> int:
    stack, name = function_of(args)
    try:
        function = client("lambda").get_function_configuration(FunctionName=name)
        alarms = client("cloudwatch").describe_alarms(
            AlarmNamePrefix=f"{name}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
    except ClientError as exc:
        raise StackError(f"Cannot read the stack: {exc.response['Error'].get('Message', exc)}") from None
    env = function.get("Environment", {}).get("Variables", {})
    mine = own_alarms(alarms.get("CompositeAlarms", []) + alarms.get("MetricAlarms", []), name)  # not a namesake's
    arns = [a["AlarmArn"] for a in mine]
    body = render.report_body(
        function=name,
        stream=stack.stream_name,
        namespace=env.get("METRICS_NAMESPACE", "StreamPipeline"),
        service=env.get("POWERTOOLS_SERVICE_NAME", name),
        source=stack.source_type or ("kinesis" if stack.stream_name else "dynamodb"),
        alarm_arns=arns,
        period=args.period,
    )
    return draw(body, f"Race report: {name}", args, console)


def run_alert_test(args: argparse.Namespace, console: Console) -> int:
    _, function = function_of(args)
    name = args.alarm or f"{function}-{alerting.DEFAULT_ALARM}"
    try:
        with console.status(Text(f"setting {name} to ALARM and waiting for the page")):
            result = alerting.run(client, name, inbox=args.inbox, timeout_s=args.timeout)
    except alerting.AlertTestError as exc:
        raise StackError(str(exc)) from None
    if args.json:
        print(json.dumps({**asdict(result), "exit_code": result.exit_code}, indent=2))
    else:
        for line in alerting.report_lines(result):
            console.print(Text(line), highlight=False, soft_wrap=True)
    return result.exit_code


def add_doctor(commands: Any) -> None:
    sub = command(
        commands, "doctor", "read the live stack and print findings with evidence and a fix", doctor, run_doctor
    )
    sub.add_argument("--topic", help="the alarm topic ARN (default: from the outputs or the alarms)")
    sub.add_argument("--minutes", type=int, default=60, help="how far back to read metrics (default 60)")
    sub.add_argument("--json", action="store_true", help="findings as JSON, for scripts and CI")


def add_alert_test(commands: Any) -> None:
    sub = command(
        commands, "alert-test", "send a test page through a paging alarm and see it delivered; list the subscriptions",
        alerting, run_alert_test,
    )  # fmt: skip
    sub.add_argument(
        "--alarm", help=f"the paging alarm to set (default: the consumer's {alerting.DEFAULT_ALARM}, which pages alone)"
    )
    sub.add_argument("--inbox", metavar="QUEUE_URL", help="an SQS queue subscribed to the topic, to see the page in")
    sub.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the evidence (default 90)")
    sub.add_argument("--json", action="store_true", help="the result as JSON")


def add_redrive(commands: Any) -> None:
    sub = command(
        commands, "redrive",
        "deliver the records in the failure path again to the consumer that failed them, exactly once (dry run "
        "by default)",
        redrive, run_redrive,
    )  # fmt: skip
    sub.add_argument("--apply", action="store_true", help="deliver the passing records (default: dry run)")
    sub.add_argument("--limit", type=int, default=redrive.LIMIT, metavar="N",
                     help=f"read at most N of this stack's failures (default {redrive.LIMIT:,}); the next --apply "
                          "run goes on after them")  # fmt: skip
    sub.add_argument("--from-archive", action="store_true",
                     help="deliver the archive's copies of records past the stream's retention (prints each one's "
                          "sha256 first; a versioned bucket and an object written once only)")  # fmt: skip
    sub.add_argument("--discard", action="append", default=[], metavar="SEQUENCE",
                     help="give up this record (repeatable); needs --reason")  # fmt: skip
    sub.add_argument("--settle", action="append", default=[], metavar="SEQUENCE",
                     help="decide a record in doubt (or with a forged ledger entry), after checking; needs --as and "
                          "--reason")  # fmt: skip
    sub.add_argument("--as", dest="settle_as", choices=("done", "retry"),
                     help="done: it is in the sink; retry: deliver it again")  # fmt: skip
    sub.add_argument("--reason", help="why the records are discarded or settled (kept in the ledger)")
    sub.add_argument("--discard-log", metavar="FILE", help="append each discard to FILE: keys and a digest, no payload")
    sub.add_argument("--keep-payload", action="store_true", help="with --discard-log: the discarded records too")
    sub.add_argument("--no-check", action="store_true", help="do not validate with the deployed processor")
    sub.add_argument("--processor", metavar="MODULE",
                     help="the function's custom RECORD_PROCESSOR (package.module[:function]), which the check may "
                          "then import here; built-in processors need none")  # fmt: skip
    sub.add_argument("--json", action="store_true", help="the summary as JSON")


def add_plan(commands: Any) -> None:
    sub = command(
        commands, "plan", "size the stream, the consumer and the sink for a workload, with reasons and a cost estimate",
        planner, run_plan, stack=False,
    )  # fmt: skip
    sub.add_argument("--avg-rps", type=float, required=True, help="average records per second")
    sub.add_argument("--peak-rps", type=float, help="peak records per second (default: the average)")
    sub.add_argument("--record-bytes", type=int, default=200, help="bytes per record (default 200)")
    sub.add_argument("--consumers", type=int, default=1, help="consumers sharing the stream (default 1)")
    sub.add_argument(
        "--consumer",
        action="append",
        type=consumer_arg,
        metavar="NAME[:low-latency|:efo|:shared]",
        help="one consumer, repeated for each (overrides --consumers); low-latency ones get enhanced fan-out",
    )
    sub.add_argument(
        "--account-concurrency",
        type=int,
        help="the account's Lambda concurrent-executions quota; without it, no reserved concurrency",
    )
    sub.add_argument(
        "--producers-can-aggregate",
        action="store_true",
        help="producers use the KPL and can aggregate records (the consumer deaggregates)",
    )
    sub.add_argument(
        "--producers",
        type=int,
        default=1,
        help="processes putting records; each aggregates only what it buffers (default 1)",
    )
    sub.add_argument(
        "--aggregation-max-bytes",
        type=int,
        default=planner.KPL_AGGREGATION_MAX_SIZE,
        help="the producers' largest aggregate in bytes (the KPL's AggregationMaxSize, default "
        f"{planner.KPL_AGGREGATION_MAX_SIZE:,}; aws-kinesis-agg fills {planner.KINESIS_RECORD_MAX_BYTES:,}): the "
        "function's memory takes the most user records one holds",
    )
    sub.add_argument(
        "--partition-key-bytes",
        type=int,
        default=16,
        help="bytes per partition key, for an aggregate's key table (default 16)",
    )
    sub.add_argument("--per-record-ms", type=float, default=planner.PER_RECORD_MS, help="handler time per record")
    sub.add_argument("--sink-writes-per-record", type=float, default=1.0, help="sink writes per record")
    sub.add_argument("--keys", type=int, help="distinct partition keys, if the processor writes once per key per batch")
    sub.add_argument("--retention-hours", type=int, default=24, help="stream retention (default 24)")
    sub.add_argument("--latency-target-s", type=float, default=5.0, help="arrival to processed (default 5)")
    sub.add_argument("--tfvars", help="write the inputs: FILE.tfvars (HCL) or FILE.tfvars.json")
    sub.add_argument(
        "--region",
        default=planner.DEFAULT_REGION,
        help=f"the region whose quotas and prices the plan uses (default {planner.DEFAULT_REGION}; prices for "
        f"{', '.join(planner.REGION_PRICES)} only)",
    )
    sub.add_argument("--json", action="store_true", help="the plan as JSON")


def add_drawings(commands: Any) -> None:
    sub = command(
        commands, "dashboard", "draw the deployed CloudWatch dashboard to a PNG, with data from GetMetricData",
        render, run_dashboard,
    )  # fmt: skip
    sub.add_argument("--name", help="the dashboard's name (default: from the outputs)")
    sub.add_argument("--body", help="a dashboard body JSON file instead of GetDashboard")
    sub.add_argument("--minutes", type=int, default=60, help="how far back (default 60)")
    sub.add_argument("--out", default="dashboard.png", help="the PNG to write (default dashboard.png)")

    sub = command(
        commands, "report", "draw a race report PNG: put vs processed, latency, sink writes, failures, alarms",
        render, run_report,
    )  # fmt: skip
    sub.add_argument("--minutes", type=int, default=15, help="how far back (default 15)")
    sub.add_argument("--period", type=int, default=60,
                     help="seconds per point: 60 for AWS's standard metrics; 10 on LocalStack")  # fmt: skip
    sub.add_argument("--out", default="race-report.png", help="the PNG to write (default race-report.png)")


def add_load(commands: Any) -> None:
    sub = command(
        commands, "load", "race simulated Alleycat racers into the stream (or the DynamoDB source table)",
        load, run_load,
    )  # fmt: skip
    target = sub.add_mutually_exclusive_group()
    target.add_argument("--stream", help="Kinesis stream name")
    target.add_argument("--table", help="DynamoDB source table name (the dynamodb-streams example)")
    sub.add_argument("--racers", type=int, default=100, help="1 to 1,000 simulated racers (default 100)")
    sub.add_argument("--seconds", type=int, default=60, help="race length in seconds (default 60)")
    sub.add_argument("--race-id", type=int, default=int(time.time()) % 100_000, help="default: from the clock")
    sub.add_argument("--seed", type=int, default=7, help="seed of the racers' trends")
    sub.add_argument(
        "--aggregate", action="store_true", help="pack messages into KPL aggregates (one per shard, as the KPL does)"
    )
    sub.add_argument(
        "--buffer-ms",
        type=int,
        default=load.DEFAULT_BUFFER_MS,
        metavar="MS",
        help="how long an aggregate waits for more messages (default 100, the KPL's)",
    )
    sub.add_argument(
        "--no-producer-metrics",
        action="store_true",
        help="do not publish the KPL's producer metrics (KinesisProducerLibrary namespace)",
    )
    sub.add_argument(
        "--metrics-upload-delay-ms",
        type=int,
        default=load.DEFAULT_UPLOAD_DELAY_MS,
        metavar="MS",
        help="the producer metrics' interval, as the KPL's MetricsUploadDelay (default 60000; 10000 to compare "
        "with `report --period 10`)",
    )
    sub.add_argument("--json", action="store_true", help="print the summary as JSON")


def parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    top = Parser(prog="stream-pipeline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (add_doctor, add_redrive, add_alert_test, add_plan, add_drawings, add_load):
        add(commands)
    for each in (top, *commands.choices.values()):
        each.json_errors = json_errors
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error is a sentence, never a traceback: on stderr, or with --json as
    JSON on stdout (``{"command", "error", "exit_code"}``), with a non-zero exit status."""
    words = sys.argv[1:] if argv is None else argv
    args = parser(json_errors="--json" in words).parse_args(argv)
    console = Console()
    try:
        code: int = args.run(args, console)
    except StackError as exc:
        return fail(args, str(exc), EXIT_STACK)
    except NoRegionError:
        return fail(args, NO_REGION, EXIT_STACK)
    except NoCredentialsError:
        return fail(args, "No AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
                    EXIT_STACK)  # fmt: skip
    except BotoCoreError as exc:  # no endpoint, no network: a sentence, not a traceback
        return fail(args, f"cannot reach AWS: {exc}", EXIT_STACK)
    except ClientError as exc:  # a call no command turned into a sentence of its own
        error = exc.response.get("Error", {})
        return fail(
            args, f"AWS refused {exc.operation_name} ({error.get('Code', 'Unknown')}: {error.get('Message', '')})",
            EXIT_STACK,
        )  # fmt: skip
    return code


def fail(args: argparse.Namespace, message: str, code: int) -> int:
    """The error as JSON on stdout with --json, else a sentence on stderr; the message is Text (it can
    quote the outputs or what AWS answered), never read as markup."""
    if getattr(args, "json", False):
        print(error_json(args.command, message, code))
    else:
        Console(stderr=True, soft_wrap=True).print(Text.assemble(("error: ", "red"), message), highlight=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
