"""The local development harness: LocalStack in host mode (``install``, ``emulator``,
``terraform``, the ``localstack`` command behind ``make up``/``make down``) and the race
measurement of the integration tier and the benchmarks (``measure``). Dev tooling only: never in
the Lambda zip, and not the operator command (``stream_pipeline_ops``)."""
