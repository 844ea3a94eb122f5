"""`accord stream spark-conf`: the settings every job runs with, as a `spark-submit` properties file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.runtime.cli import cli

# resolves the connector jars with Maven when the cache does not hold them yet
pytestmark = pytest.mark.integration


def test_spark_conf_prints_the_cluster_settings_and_the_entry_file_without_the_s3_keys(
    pytestconfig: pytest.Config,
) -> None:
    env = {
        "ACCORD_SPARK_MASTER": "spark://spark-master:7077",
        "ACCORD_SPARK_EXECUTOR_MEMORY": "4g",
        "ACCORD_SPARK_CORES_MAX": "6",
        "ACCORD_LAKE_URI": "s3a://bucket/accord",
        "ACCORD_S3_ACCESS_KEY": "access-id",
        "ACCORD_S3_SECRET_KEY": "very-secret",
        "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
    }
    result = CliRunner().invoke(cli, ["stream", "spark-conf"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    entry = Path(lines[1].removeprefix("# entry file: "))
    assert entry.name == "submit.py"
    assert entry.exists()
    conf = dict(line.split(" ", 1) for line in lines if not line.startswith("#"))
    assert conf["spark.master"] == "spark://spark-master:7077"
    assert conf["spark.executor.memory"] == "4g"
    assert conf["spark.executor.cores"] == "1"
    assert conf["spark.cores.max"] == "6"
    jars = [Path(jar) for jar in conf["spark.jars"].split(",")]
    assert all(jar.exists() for jar in jars)
    assert any(jar.name.startswith("delta-spark") for jar in jars)
    assert any(jar.name.startswith("hadoop-aws") for jar in jars)
    # every application writing the lake commits through the same conditional-write log store
    assert any(jar.name.startswith("accord-delta-logstore") for jar in jars)
    assert conf["spark.delta.logStore.s3a.impl"] == "dev.accord.delta.S3ConditionalPutLogStore"
    assert "very-secret" not in result.output
    assert "access-id" not in result.output


def test_a_lake_on_a_store_without_conditional_writes_keeps_deltas_own_log_store(
    pytestconfig: pytest.Config,
) -> None:
    env = {
        "ACCORD_LAKE_URI": "s3a://bucket/accord",
        "ACCORD_S3_LOG_STORE": "single-driver",
        "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
    }
    result = CliRunner().invoke(cli, ["stream", "spark-conf"], env=env)
    assert result.exit_code == 0, result.output
    conf = dict(line.split(" ", 1) for line in result.output.splitlines() if not line.startswith("#"))
    assert "spark.delta.logStore.s3a.impl" not in conf
    assert not any("accord-delta-logstore" in jar for jar in conf["spark.jars"].split(","))


def test_an_unknown_log_store_is_refused_naming_the_variable() -> None:
    env = {"ACCORD_LAKE_URI": "s3a://bucket/accord", "ACCORD_S3_LOG_STORE": "dynamo"}
    result = CliRunner().invoke(cli, ["stream", "spark-conf"], env=env)
    assert result.exit_code != 0
    assert "ACCORD_S3_LOG_STORE" in result.output
