"""The Spark session the jobs run in: local mode, Delta, Kafka and Avro jars, the lake's S3 settings."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from accord.streaming.jars import S3_CONDITIONAL_LOG_STORE, connector_jars, log_store_jar
from accord.streaming.settings import StreamingSettings
from accord.streaming.spark_logs import driver_java_options

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def spark_conf(settings: StreamingSettings, *, s3: bool | None = None) -> dict[str, str]:
    """Every Spark setting the jobs need, as a plain mapping (also what a cluster submit would pass)."""
    with_s3 = settings.uses_s3 if s3 is None else s3
    jars = connector_jars(settings.cache_dir, s3=with_s3)
    if with_s3 and settings.s3_log_store == "conditional-put":
        jars.append(log_store_jar(settings.cache_dir))
    conf = {
        "spark.jars": ",".join(str(jar.resolve()) for jar in jars),
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.extraJavaOptions": driver_java_options(settings),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        # the lake is addressed by path; keep Spark's default catalog folder out of the working tree
        "spark.sql.warehouse.dir": str((settings.state_dir / "spark-warehouse").resolve()),
        # Delta rebuilds table snapshots with 50 tasks by default: far too many for a small local lake
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        # VACUUM lists a table's folders in this many tasks (Spark's default: 10,000), twice a run
        # counting its dry run: beside the stream those tasks took the cores for minutes
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(settings.shuffle_partitions),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.schema.autoMerge.enabled": "true",
        "spark.sql.streaming.stopGracefullyOnShutdown": "true",
        # table maintenance runs in its own scheduler pool, so a compaction shares the cores
        # with the stream's batches instead of queueing them behind its tasks
        "spark.scheduler.mode": "FAIR",
        "spark.databricks.delta.optimizeWrite.enabled": str(settings.lake_optimized_writes).lower(),
        # each batch plans the same few dozen projections again; with Spark's default of 100
        # compiled classes, Silver's wide rows pushed them out and every batch compiled them anew
        # (a sixth of the stream's CPU)
        "spark.sql.codegen.cache.maxEntries": "2000",
        # a table the stream appends to every second checkpoints every 50 commits instead of 10:
        # a checkpoint rebuilds the table's state and writes it out inside the batch that made
        # the commit, the slowest batches of all
        "spark.databricks.delta.properties.defaults.checkpointInterval": str(
            settings.lake_checkpoint_interval
        ),
    }
    if not settings.spark_master.startswith("local"):
        conf.update(_executor_conf(settings))
    if with_s3:
        conf.update(_s3a_conf(settings))
        if settings.s3_log_store == "conditional-put":
            # two applications committing one version: S3 refuses the second (RUNBOOK, "Several
            # writers on one S3 lake")
            conf["spark.delta.logStore.s3a.impl"] = S3_CONDITIONAL_LOG_STORE
    return conf


def _executor_conf(settings: StreamingSettings) -> dict[str, str]:
    # `spark.jars` above holds driver-side paths: the driver serves those jars to its executors
    conf = {
        "spark.executor.memory": settings.spark_executor_memory,
        "spark.executor.cores": str(settings.spark_executor_cores),
    }
    if settings.spark_cores_max is not None:
        conf["spark.cores.max"] = str(settings.spark_cores_max)
    return conf


def _s3a_conf(settings: StreamingSettings) -> dict[str, str]:
    conf = {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.path.style.access": str(settings.s3_path_style).lower(),
        "spark.hadoop.fs.s3a.endpoint.region": settings.s3_region,
    }
    if settings.s3_endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = settings.s3_endpoint
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(
            settings.s3_endpoint.startswith("https://")
        ).lower()
    if settings.s3_access_key and settings.s3_secret_key:
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
        conf["spark.hadoop.fs.s3a.access.key"] = settings.s3_access_key.get_secret_value()
        conf["spark.hadoop.fs.s3a.secret.key"] = settings.s3_secret_key.get_secret_value()
    return conf


def build_session(
    settings: StreamingSettings, app_name: str = "accord-streaming", *, s3: bool | None = None
) -> SparkSession:
    """Start (or return the running) Spark session configured for the lake.

    `s3` puts the S3A jars on the classpath even when the lake is local (default: only for an
    s3a:// lake), since a running JVM cannot load them later.
    """
    from pyspark.sql import SparkSession

    if settings.spark_master.startswith("local"):
        # a local driver serves only this machine; without this Spark binds to the first
        # non-loopback address and warns about the host name on every start
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python UDFs (the data-contract rules) run in workers that import the accord packages: this
    # process's interpreter, not the first python3 on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.spark_master).appName(app_name)
    for key, value in spark_conf(settings, s3=s3).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    log.info("spark session started", extra={"app": app_name, "master": settings.spark_master})
    return spark


def configure_s3(spark: SparkSession, settings: StreamingSettings) -> None:
    """Point a running session's S3A filesystem at the endpoint and credentials of `settings`."""
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in _s3a_conf(settings).items():
        hadoop.set(key.removeprefix("spark.hadoop."), value)
