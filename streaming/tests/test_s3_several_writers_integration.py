"""Two Spark applications committing to one Delta table on S3 at once lose no commit.

Each is its own JVM, as the stream, a backfill and maintenance are; the lake's log store
creates every commit with a conditional write, so S3 refuses the second writer of a version and
Delta retries it on the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from accord.streaming.session import configure_s3
from accord.streaming.settings import StreamingSettings
from accord.streaming.testing import S3Server, job_env

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(600)]

WRITER = Path(__file__).with_name("lake_writer.py")
APPENDS = 20


def test_two_applications_appending_to_one_s3_table_lose_no_commit(
    spark: SparkSession, spark_settings: StreamingSettings, s3_server: S3Server, tmp_path: Path
) -> None:
    settings = s3_server.lake_settings(spark_settings.model_copy(update={"state_dir": tmp_path}))
    table = f"{settings.lake_uri}/shared"
    env = job_env(settings, ACCORD_LOG_LEVEL="WARNING")
    go = tmp_path / "go"
    logs = {name: tmp_path / f"writer-{name}.log" for name in ("a", "b")}
    writers = {}
    # stderr goes to a file: a pipe nobody reads while the other writer starts could fill and block
    for name, extra in (("a", ["--create"]), ("b", [])):
        with logs[name].open("w") as log_out:
            writers[name] = subprocess.Popen(
                [sys.executable, str(WRITER), name, str(APPENDS), table, str(go), *extra],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log_out,
                text=True,
            )
    try:
        for name, proc in writers.items():
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", f"writer {name}: {logs[name].read_text()}"
        go.touch()
        for name, proc in writers.items():
            proc.communicate(timeout=400)
            assert proc.returncode == 0, f"writer {name}: {logs[name].read_text()[-3000:]}"
    finally:
        for proc in writers.values():
            proc.kill()

    configure_s3(spark, settings)
    rows = sorted((r.writer, r.seq) for r in spark.read.format("delta").load(table).collect())
    assert rows == sorted((name, seq) for name in writers for seq in range(APPENDS))
    versions = sorted(r.version for r in spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect())
    assert versions == list(range(1 + 2 * APPENDS))  # the create, then one commit per append


def test_a_commit_whose_version_another_writer_took_is_refused_by_s3(
    spark: SparkSession, spark_settings: StreamingSettings, s3_server: S3Server
) -> None:
    # Delta lists the log right before it commits, so two writers rarely race for one version;
    # here the other writer's commit lands first, as in the race, and this one must not replace it
    settings = s3_server.lake_settings(spark_settings)
    configure_s3(spark, settings)
    jvm: Any = spark._jvm
    hadoop_conf = spark._jsc.hadoopConfiguration()
    log_store = jvm.dev.accord.delta.S3ConditionalPutLogStore(hadoop_conf)
    key = "lake/raced/_delta_log/00000000000000000001.json"
    s3 = s3_server.client()
    s3.put_object(Bucket=s3_server.bucket, Key=key, Body=b'{"commitInfo":{"writer":"winner"}}\n')

    actions = jvm.java.util.ArrayList()
    actions.add('{"commitInfo":{"writer":"loser"}}')
    path = jvm.org.apache.hadoop.fs.Path(f"s3a://{s3_server.bucket}/{key}")
    with pytest.raises(Py4JJavaError) as refused:
        log_store.write(path, actions.iterator(), False, hadoop_conf)
    error = refused.value.java_exception
    # what Delta retries on the next version, and S3's 412 beneath it
    assert error.getClass().getName() == "java.nio.file.FileAlreadyExistsException"
    assert error.getCause().getClass().getName() == "org.apache.hadoop.fs.s3a.RemoteFileChangedException"
    body = s3.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()
    assert body == b'{"commitInfo":{"writer":"winner"}}\n'

    # the next version is free: it is written, one action per line
    free = jvm.org.apache.hadoop.fs.Path(f"s3a://{s3_server.bucket}/{key.replace('1.json', '2.json')}")
    log_store.write(free, actions.iterator(), False, hadoop_conf)
    written = s3.get_object(Bucket=s3_server.bucket, Key=key.replace("1.json", "2.json"))["Body"].read()
    assert written == b'{"commitInfo":{"writer":"loser"}}\n'
