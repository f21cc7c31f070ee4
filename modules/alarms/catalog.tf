# The alarm catalog: what each alarm means, what to do, the doctor finding that goes with it and how
# to get the records back. Static text only (no interpolation): scripts/runbook.py turns it into
# docs/RUNBOOK.md, every alarm description links to its section there, and the unit tier fails when
# an alarm has no entry or the runbook is stale. The thresholds and the dimensions, which depend on
# the inputs, are in main.tf.

locals {
  catalog = {
    lambda-errors = {
      title   = "The consumer function failed"
      page    = "failing"
      means   = "An invocation raised, timed out or ran out of memory. Lambda retries the whole batch, bisects it, and finally sends it to the failure path."
      action  = "Read the function's log group for the error. A timeout wants smaller batches or more memory; an import or configuration error is in the first lines of a cold start."
      finding = "function: the function failed invocations"
      recover = "Nothing is lost yet: the batch is being retried. If it reaches the failure path, the on-failure-delivered alarm pages and stream-pipeline redrive brings it back."
    }
    records-failed = {
      title   = "The handler reported records as failed"
      page    = "failing"
      means   = "The handler returned batchItemFailures (malformed, invalid or oversized records, or a sink that did not take the write in time). Lambda's Errors stays at 0 for these; the records are retried from the first failed one."
      action  = "Find the \"record failed\" lines in the log group: each names the record's sequence number and the reason, never its payload."
      finding = "alarms: records-failed in ALARM"
      recover = "Records that keep failing reach the failure path after the retries; fix the cause, deploy, then stream-pipeline redrive (a dry run) and redrive --apply."
    }
    failed-invoke-events = {
      title   = "The event source mapping's invocations failed"
      page    = "failing"
      means   = "The mapping counted events whose invocation failed: function errors, throttles, or a response with batch item failures. The records are being retried."
      action  = "See which of records-failed, lambda-errors and lambda-throttles is in ALARM too; each says what to do."
      finding = "event source mapping: the mapping's last processing had a problem"
      recover = "Nothing to recover while the retries run; see on-failure-delivered for what reaches the failure path."
    }
    lambda-throttles = {
      title   = "The consumer is throttled"
      page    = "behind"
      means   = "Lambda refused invocations for lack of concurrency: the stream's batches wait and the consumer falls behind."
      action  = "Give the function the concurrency the stream needs (shards x parallelization factor): a reservation of at least that, if the account quota leaves 100 unreserved, or a higher account concurrency quota."
      finding = "function: the function was throttled"
      recover = "Nothing is lost while the records are within the maximum record age; the record-age alarm pages before they are given up."
    }
    lambda-duration = {
      title   = "Invocations come close to the timeout"
      page    = "behind"
      means   = "The slowest invocations took most of the function's timeout in 2 of 3 periods. A timeout retries the whole batch."
      action  = "Smaller batches (event_source_mapping.batch_size), more memory (more CPU), or look for a throttled sink (sink-write-throttles)."
      finding = "function: invocations come close to the timeout"
      recover = "Nothing is lost yet; timed-out batches are retried and, at worst, reach the failure path."
    }
    iterator-age = {
      title   = "The consumer is falling behind"
      page    = "behind"
      means   = "The last record of a batch was older than the lag threshold when it was processed, in 2 of 3 periods. A stalled consumer publishes no IteratorAge, so silence keeps this alarm where it is."
      action  = "Raise the parallelization factor or the shard count, and check errors and throttles. If the consumer stopped, consumer-stopped pages too."
      finding = "stream: the consumer is falling behind"
      recover = "Nothing is lost yet; record-age pages while there is still time."
    }
    enhanced-fan-out-lag = {
      title   = "The enhanced fan-out consumer is falling behind"
      page    = "behind"
      means   = "SubscribeToShardEvent.MillisBehindLatest of this consumer (StreamName, ConsumerName) was above the lag threshold in 2 of 3 periods: its pushed records are older than they should be."
      action  = "Check the function's duration, errors and throttles; raise the parallelization factor or the shard count."
      finding = "stream: the consumer is falling behind"
      recover = "Nothing is lost yet; record-age pages while there is still time."
    }
    kinesis-subscribe-rate-exceeded = {
      title   = "The enhanced fan-out consumer's subscriptions are throttled"
      page    = "behind"
      means   = "SubscribeToShard allows one call per second per consumer and shard, and a call within 5 s of a successful one for the same shard fails with ResourceInUseException; this metric counts both. A subscription lasts at most 5 minutes, so the mapping subscribes again and again: the alarm wants 3 periods in a row, so that a takeover now and then does not page."
      action  = "Make sure no other process (another mapping, a KCL application) uses this consumer; check the mapping's state."
      finding = "event source mapping: the mapping's last processing had a problem"
      recover = "Nothing is lost while the records are within the maximum record age."
    }
    sink-write-throttles = {
      title   = "The sink table throttles writes"
      page    = "behind"
      means   = "DynamoDB throttled writes to the sink (the Alleycat table of the blog post). The handler retries with backoff until its deadline, then reports the records failed. Missing periods count as 0 (FILL), so the alarm returns to OK."
      action  = "Raise the table's write capacity or switch it to on-demand (sink.billing_mode = PAY_PER_REQUEST)."
      finding = "sink: the sink throttled writes"
      recover = "Records that ran out of time are retried by the mapping; at worst they reach the failure path."
    }
    record-age = {
      title   = "RECORDS AT RISK: the consumer is far behind"
      page    = "direct"
      means   = "The consumer is a large share of the maximum record age behind. At 100% Lambda gives the records up to the failure path; past the stream's retention they expire."
      action  = "Fix the consumer now (errors, throttles, concurrency), or raise the maximum record age and the stream retention to buy time."
      finding = "stream: records are at risk: the consumer is far behind"
      recover = "If records are given up, on-failure-delivered pages and stream-pipeline redrive brings them back from the failure path."
    }
    consumer-stopped = {
      title   = "RECORDS AT RISK: the consumer has stopped reading"
      page    = "direct"
      means   = "The event source mapping published no PolledEventCount for a whole evaluation range. Lambda publishes it while it polls, 0 for an empty poll, so a healthy idle mapping keeps publishing; silence means the mapping cannot read (disabled, a removed permission, a changed key policy, a deleted enhanced fan-out consumer). Records then expire at the end of the retention and no other metric says so: IteratorAge is published only when a batch is delivered, and DroppedEventCount does not count records that expire. The alarm treats missing data as missing, so it pages on the move to INSUFFICIENT_DATA (grey, not red): an alarm created before its mapping's first poll therefore does not page at every deploy, and a mapping that has never polled at all is the doctor's to find."
      action  = "Run stream-pipeline doctor: it reads the mapping's state and its reason, the function and the stream. Re-enable the mapping, or restore the role's read permission or the stream key's grant."
      finding = "event source mapping: the consumer has stopped reading"
      recover = "Records still in the stream are read again when the mapping resumes; records that expired are gone, so act before the retention ends."
    }
    dropped-events = {
      title   = "RECORDS LOST: the mapping dropped records"
      page    = "lost"
      means   = "DroppedEventCount: records that exhausted their retries or their maximum age and did not reach the on-failure destination (it counts the records whose delivery failed; it does not count records delivered to the destination, nor records that expired from the stream)."
      action  = "Fix the on-failure destination and the role's permission to it now (see destination-delivery-failures), then replay the affected range from the stream while it is retained."
      finding = "failure path: records were dropped"
      recover = "The records are not in the failure path. Replay them from the stream by shard and sequence range (the log group's \"record failed\" lines name them) while the retention lasts."
    }
    destination-delivery-failures = {
      title   = "RECORDS LOST SILENTLY: the failure path itself failed"
      page    = "lost"
      means   = "Lambda could not deliver failed records to the on-failure destination (permissions, a deleted or full destination, the message size). Those records are dropped."
      action  = "Fix the destination and the role's permissions now; replay the affected range from the stream."
      finding = "failure path: records were dropped"
      recover = "As for dropped-events: replay from the stream while it is retained."
    }
    on-failure-delivered = {
      title   = "Records were given up to the failure path"
      page    = "direct"
      means   = "Records exhausted their retries or their maximum age and were sent to the on-failure destination: a queue message naming the shard and sequence range, or an archive object holding the records."
      action  = "Read why in the log group, fix the cause and deploy, then stream-pipeline redrive (a dry run) and redrive --apply."
      finding = "failure path: failed batches wait in the failure path"
      recover = "stream-pipeline redrive --apply puts the records back exactly once (a ledger keeps the claims), and closes each failure when all its records are back or discarded on purpose."
    }
    on-failure-queue = {
      title   = "Failures wait in the on-failure queue"
      page    = "status"
      means   = "The on-failure queue holds messages (in any of the last 3 periods). A status, not a page: the page for a failure is on-failure-delivered, when it happens, and failure-replay-window, before it is too late. Without the mapping's EventCount metrics this alarm pages instead."
      action  = "stream-pipeline redrive (a dry run) to see why the records failed and which would pass now, then --apply."
      finding = "failure path: failed batches wait in the on-failure queue"
      recover = "stream-pipeline redrive --apply."
    }
    failure-replay-window = {
      title   = "REPLAY WINDOW CLOSING: a failure has waited too long"
      page    = "direct"
      means   = "The on-failure queue has held messages without a break for a large share of the time a failed record is sure to stay in the stream (retention minus maximum record age). It watches the queue's presence (ApproximateNumberOfMessagesVisible, every period of the window), not the age of the oldest message, which SQS stops reporting for a message received three times (by redrive dry runs, say)."
      action  = "Replay now: stream-pipeline redrive --apply. After the window the records may have expired from the stream."
      finding = "failure path: the replay window is closing"
      recover = "stream-pipeline redrive --apply; records the stream no longer holds are reported expired and the failure is kept."
    }
    kinesis-write-throughput-exceeded = {
      title   = "Producers are throttled"
      page    = "direct"
      means   = "The stream refused writes above its shards' limits (1,000 records/s or 1 MiB/s per shard)."
      action  = "If records bind and bytes do not, combine messages on the producer (KPL aggregation) or add shards; if bytes bind, add shards or switch to on-demand. Producers must retry the entries PutRecords reports failed."
      finding = "stream: producers were throttled"
      recover = "Nothing reached the stream that was refused: producers that retry lose nothing."
    }
    kinesis-read-throughput-exceeded = {
      title   = "Shared-throughput readers are throttled"
      page    = "direct"
      means   = "The stream's shared-throughput readers together exceeded 5 GetRecords calls or 2 MiB per second per shard."
      action  = "Fewer shared readers, or enhanced fan-out for the ones that need low latency."
      finding = "stream: the shared read budget is exceeded"
      recover = "Nothing is lost while the records are within the maximum record age."
    }
    stream-silent = {
      title   = "Nothing has arrived"
      page    = "direct"
      means   = "The stream received no records (Kinesis IncomingRecords), or the function no invocations (DynamoDB), for several periods. Opt-in: many streams are quiet at night."
      action  = "Check the producers; for a DynamoDB source, check that the mapping is enabled."
      finding = "stream: nothing has arrived"
      recover = "Nothing to recover in the pipeline; look at the producers."
    }
  }
}
