"""The doctor on concurrency and stream capacity: what the shards need, read rather than assumed
(an on-demand stream has the open shards it reports, at least 4), whether an unreserved consumer
can be starved by the account's other functions, and the two remedies for a record-bound stream."""

from __future__ import annotations

from doctor_fakes import HEALTHY, aws, error, only, run, serious, summary
from stream_pipeline_ops import doctor

NO_RESERVATION = {("lambda", "get_function_concurrency"): {}}  # what GetFunctionConcurrency says without one
BELOW = "reserved concurrency is below what the stream needs: it throttles itself"
STARVED = "the consumer has no reserved concurrency and the account's other functions can starve it"


def account(quota: int, unreserved: int) -> dict[tuple[str, str], object]:
    limit = {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}
    return {("lambda", "get_account_settings"): {"AccountLimit": limit}}


def test_reserved_concurrency_below_shards_times_parallelization_is_critical() -> None:
    report = run({("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 3}})
    assert serious(report) == [("critical", BELOW)]
    assert report.findings[0].evidence == "ReservedConcurrentExecutions=3 < 2 shard(s) x parallelization factor 2 = 4"
    assert "--reserved-concurrent-executions 4" in report.findings[0].fix


def test_an_on_demand_stream_needs_its_open_shards_not_the_four_it_started_with() -> None:
    """An on-demand stream that scaled to 10 shards wants 10 x 2 batches at once: a reservation of
    10 throttles it (the old doctor assumed 4 shards, 8 batches, and saw nothing)."""
    report = run(summary(StreamModeDetails={"StreamMode": "ON_DEMAND"}, OpenShardCount=10))
    assert serious(report) == [("critical", BELOW)]
    assert only(report, BELOW).evidence == (
        "ReservedConcurrentExecutions=10 < 10 shard(s) (on-demand: 10 open, at least 4) x parallelization factor 2 = 20"
    )
    assert "--reserved-concurrent-executions 20" in only(report, BELOW).fix


def test_an_on_demand_stream_counts_at_least_four_shards() -> None:
    report = run(
        {
            **summary(StreamModeDetails={"StreamMode": "ON_DEMAND"}, OpenShardCount=2),
            ("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 6},
        }
    )
    assert only(report, BELOW).evidence == (
        "ReservedConcurrentExecutions=6 < 4 shard(s) (on-demand: 2 open, at least 4) x parallelization factor 2 = 8"
    )


def test_an_unreserved_consumer_in_a_busy_account_is_told_to_reserve_what_it_needs() -> None:
    report = run({**NO_RESERVATION, **account(1000, 900)}, {"ConcurrentExecutions": [420.0, 898.0, 610.0]})
    assert serious(report) == [("warning", STARVED)]
    finding = only(report, STARVED)
    assert finding.evidence == (
        "UnreservedConcurrentExecutions=900 (account quota 1,000) minus the peak in use 898 (ConcurrentExecutions, "
        "all functions, last 60 min) leaves 2 < 2 shard(s) x parallelization factor 2 = 4"
    )
    assert finding.fix.startswith(
        "reserve what the stream needs: aws lambda put-function-concurrency --function-name alleycat "
        "--reserved-concurrent-executions 4 (or set function.reserved_concurrency = 4 and re-apply); "
        "the account keeps 896 unreserved"
    )


def test_a_new_account_that_cannot_reserve_is_told_to_ask_for_a_quota() -> None:
    """A new account's quota of 10: reserving 4 would leave 6 unreserved, below Lambda's 100."""
    report = run({**NO_RESERVATION, **account(10, 10)}, {"ConcurrentExecutions": [7.0]})
    finding = only(report, STARVED)
    assert "UnreservedConcurrentExecutions=10 (account quota 10) minus the peak in use 7" in finding.evidence
    assert "leaves 3 < 2 shard(s) x parallelization factor 2 = 4" in finding.evidence
    assert finding.fix == (
        "the account cannot reserve 4 and keep the 100 unreserved Lambda requires: ask for a Lambda concurrent "
        "executions quota of at least 104 (aws service-quotas request-service-quota-increase --service-code lambda "
        "--quota-code L-B99A9384 --desired-value 104), then reserve 4"
    )


def test_an_unreserved_consumer_with_room_has_no_finding() -> None:
    fake = aws({**NO_RESERVATION, **account(1000, 1000)}, {"ConcurrentExecutions": [996.0]})
    report = doctor.diagnose(fake, "alleycat")
    assert report.findings == []
    assert fake.calls[("lambda", "get_account_settings")] == 1


def test_a_reservation_does_not_read_the_account() -> None:
    fake = aws(metrics={"ConcurrentExecutions": [1000.0]})
    assert doctor.diagnose(fake, "alleycat").findings == []
    assert fake.calls[("lambda", "get_account_settings")] == 0


def test_the_account_settings_refused_is_a_finding() -> None:
    report = run({**NO_RESERVATION, ("lambda", "get_account_settings"): error("AccessDeniedException", "Get")})
    assert serious(report) == [("warning", "could not read the account's concurrency")]
    assert "grant lambda:GetAccountSettings" in report.findings[0].fix


# ------------------------------------------------------------------ capacity: the blog's remedies
def test_the_blogs_race_on_one_shard_names_aggregation_and_resharding_with_their_shard_counts() -> None:
    """Seed 002: 1,000 racers at 1 msg/s of 200 bytes on one shard is 100% of its records, 19% of its bytes."""
    report = run(summary(OpenShardCount=1), {"IncomingRecords": [60_000.0], "IncomingBytes": [60_000.0 * 200]})
    title = "the stream runs at 100% of its IncomingRecords limit"
    assert serious(report) == [("warning", title)]
    finding = only(report, title)
    assert finding.evidence == (
        "peak 1,000 records/s and 200,000 bytes/s over the last 60 min: 100% of 1 shard(s) x 1,000 records/s, "
        "19% of 1 shard(s) x 1 MiB/s"
    )
    assert "aggregate on the producer (KPL aggregation" in finding.fix
    assert "1 shard(s) carry the bytes at 80% (the stream has 1)" in finding.fix
    assert "producer's buffering time" in finding.fix
    assert "reshard to 2 shard(s), the records at 80% (kinesis.shard_count = 2" in finding.fix


def test_when_the_bytes_bind_only_resharding_helps() -> None:
    mib = 1024 * 1024
    report = run(metrics={"IncomingRecords": [60_000.0], "IncomingBytes": [60 * 1.9 * mib]})
    title = "the stream runs at 95% of its IncomingBytes limit"
    assert serious(report) == [("warning", title)]
    finding = only(report, title)
    assert "50% of 2 shard(s) x 1,000 records/s, 95% of 2 shard(s) x 1 MiB/s" in finding.evidence
    assert "Reshard to 3 shard(s), the bytes at 80% (kinesis.shard_count = 3" in finding.fix
    assert "aggregate on the producer" not in finding.fix


def test_when_both_bind_the_reshard_covers_both() -> None:
    mib = 1024 * 1024
    report = run(metrics={"IncomingRecords": [60 * 1900.0], "IncomingBytes": [60 * 1.7 * mib]})
    title = "the stream runs at 85% of its IncomingBytes limit and 95% of its IncomingRecords limit"
    assert serious(report) == [("warning", title)]
    assert "Reshard to 3 shard(s), the bytes and the records at 80%" in only(report, title).fix


def test_an_on_demand_stream_adds_shards_by_itself() -> None:
    on_demand = summary(StreamModeDetails={"StreamMode": "ON_DEMAND"}, OpenShardCount=4)
    report = run(
        {**on_demand, ("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 8}},
        {"IncomingRecords": [60 * 3900.0]},
    )
    assert serious(report) == []


def readers(*states: str) -> dict[tuple[str, str], object]:
    """The function's own mapping when asked by FunctionName; every reader of the stream when asked by
    EventSourceArn: one mapping per state given, the first being ours."""
    ours = HEALTHY[("lambda", "list_event_source_mappings")]

    def answer(**kwargs: object) -> object:
        if "FunctionName" in kwargs:
            return ours
        return {
            "EventSourceMappings": [
                {"UUID": f"u{i}", "State": state, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:f{i}"}
                for i, state in enumerate(states)
            ]
        }

    return {("lambda", "list_event_source_mappings"): answer}


def test_three_shared_readers_are_told_their_latency_and_the_remedy() -> None:
    report = run(readers("Enabled", "Enabled", "Enabled", "Disabled"))
    title = "3 consumers share the stream's reads: the last sees a record ~600 ms after it arrived"
    assert serious(report) == [("warning", title)]
    finding = only(report, title)
    assert finding.evidence == (
        "3 event source mapping(s) poll the stream directly (f0, f1, f2); 0 registered enhanced fan-out consumer(s)"
    )
    assert "enhanced_fan_out = true" in finding.fix


def test_two_shared_readers_and_registered_consumers_are_fine() -> None:
    consumers = {("kinesis", "list_stream_consumers"): {"Consumers": [{"ConsumerName": "a"}, {"ConsumerName": "b"}]}}
    assert serious(run({**readers("Enabled", "Enabled"), **consumers})) == []


def test_more_shared_readers_than_a_shard_s_five_reads_are_critical() -> None:
    report = run(readers(*["Enabled"] * 6))
    assert serious(report) == [("critical", "6 consumers share each shard's 5 reads a second: they are throttled")]
