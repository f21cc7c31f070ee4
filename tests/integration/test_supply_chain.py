"""What the LocalStack tier really runs is what we recorded: DynamoDB Local's jar byte for byte, its
log4j without the JNDI lookup, our loopback launcher in front, and kinesis-mock from our checked
tarballs (LocalStack installed nothing over it)."""

from __future__ import annotations

import zipfile

from stream_pipeline_local import install


def test_the_installed_dynamodb_local_is_the_recorded_jar_without_jndi_lookup(emulator: None) -> None:
    target = install.cache_dir() / "lib" / "dynamodb-local" / "2"
    assert install.sha256_of(target / install.DYNAMODB_LOCAL_JAR) == install.DYNAMODB_LOCAL_JAR_SHA256
    (log4j,) = (target / "DynamoDBLocal_lib").glob("log4j-core-*.jar")
    assert install.jar_entries(log4j, install.JNDI_LOOKUP) == []
    assert install.jar_entries(log4j, "org/apache/logging/log4j/core/Logger.class"), "the rest of log4j is there"
    with zipfile.ZipFile(target / "DynamoDBLocal.jar") as launcher:
        assert sorted(launcher.namelist()) == ["LoopbackDynamoDBLocal.class", "META-INF/MANIFEST.MF"]
        manifest = launcher.read("META-INF/MANIFEST.MF").decode()
    assert manifest == install.launcher_manifest("LoopbackDynamoDBLocal", install.DYNAMODB_LOCAL_JAR)


def test_kinesis_mock_is_the_one_from_our_checked_tarballs(emulator: None) -> None:
    target = install.cache_dir() / "lib" / "kinesis-local" / install.KINESIS_LOCAL_VERSION
    assert (target / ".complete").exists()
    assert sorted(p.name for p in (target / "node_modules").iterdir()) == ["kinesis-local", "punycode"]
    assert not (target / "package-lock.json").exists(), "LocalStack's own npm install ran over ours"
