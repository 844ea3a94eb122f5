"""Settings of the streaming jobs, read from `ACCORD_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import (
    gateway_url,
    kafka_bootstrap,
    registry_url,
    stream_metrics_host,
    stream_metrics_port,
)
from accord.runtime.kafka_security import KafkaSecurity
from accord.wire.naming import DEADLETTER_TOPIC, EVENTS_TOPIC
from accord.wire.rules import DEFAULT_HORIZON, DEFAULT_SKEW


class StreamingSettings(BaseSettings):
    """Where the lake lives, what the jobs read, and how they treat time.

    Every field can be set from the environment, e.g. `ACCORD_LAKE_URI=s3a://bucket/lake`.
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    lake_uri: str = Field(default="./lake", description="local folder or s3a://bucket/prefix")
    checkpoint_uri: str | None = Field(
        default=None, description="where query checkpoints live; default `<lake>/_checkpoints`"
    )
    state_dir: Path = Field(default=Path(".run"), description="progress files read by `accord status`")
    cache_dir: Path = Field(default=Path(".cache"), description="jars resolved by Maven")
    kafka_bootstrap: str = Field(default_factory=kafka_bootstrap)
    kafka_security: KafkaSecurity = Field(
        default_factory=KafkaSecurity, description="TLS and SASL from ACCORD_KAFKA_SECURITY_PROTOCOL, …"
    )
    events_topic: str = EVENTS_TOPIC
    registry_url: str = Field(default_factory=registry_url)
    deadletter_topic: str = DEADLETTER_TOPIC
    gateway_url: str = Field(default_factory=gateway_url, description="where the ledger reads `/v1/stats`")
    write_key: SecretStr = Field(
        default=SecretStr("dev-write-key"), description="write key the ledger shows the gateway's `/v1/stats`"
    )

    stream_metrics_host: str = Field(
        default_factory=stream_metrics_host, description="interface of the Prometheus endpoint"
    )
    stream_metrics_port: int = Field(
        default_factory=stream_metrics_port, ge=0, le=65535, description="Prometheus port; 0 picks a free one"
    )

    spark_master: str = "local[2]"
    spark_driver_memory: str = "1g"
    # on a cluster master (anything but local[...]): what each executor asks the cluster for
    spark_executor_memory: str = Field(default="1g", description="heap of each executor on a cluster")
    spark_executor_cores: int = Field(default=1, gt=0, description="cores of each executor on a cluster")
    spark_cores_max: int | None = Field(
        default=None, gt=0, description="cores the application takes from a standalone cluster at most"
    )
    shuffle_partitions: int = 4
    # a micro-batch starts at most this often; one that takes longer is followed at once by the
    # next, so under load batches run back to back and freshness is about one batch's duration
    trigger_interval: str = Field(default="1 second", description="micro-batch trigger of the streams")
    starting_offsets: str = Field(
        default="earliest",
        description="where a new Bronze checkpoint starts: earliest, latest or Kafka JSON offsets",
    )
    max_offsets_per_trigger: int | None = Field(default=None, description="caps a Bronze micro-batch")
    write_task_rows: int = Field(
        default=25_000, gt=0, description="a micro-batch writes each table in one task per this many rows"
    )
    max_files_per_trigger: int | None = Field(
        default=None, description="caps a Silver micro-batch (Bronze files)"
    )
    registry_wait_s: float = Field(
        default=300.0, description="how long a batch waits for an unreachable registry before failing"
    )
    batch_attempts: int = Field(
        default=3, ge=1, description="tries of a failing Silver batch before it is split (poison records)"
    )
    poison_max_records: int = Field(
        default=10, ge=1, description="more records of one batch failing alone fail the batch instead"
    )
    stream_warmup_batches: int = Field(
        default=3,
        ge=0,
        description="synthetic batches a starting stream service runs first (JIT warm-up); 0: none",
    )
    restart_backoff_s: float = Field(default=1.0, description="first delay before restarting a dead query")
    restart_backoff_max_s: float = Field(default=60.0, description="longest delay between restarts")

    # an hour: mobile and browser clients hold events while offline or backgrounded, and an event
    # that arrives within that is ordinary traffic, not a late one
    watermark_delay: timedelta = Field(
        default=timedelta(hours=1), description="events older than the latest seen minus this are late"
    )
    event_time_horizon: timedelta = Field(
        default=DEFAULT_HORIZON, description="how long before its reception an event may have happened"
    )
    event_time_skew: timedelta = Field(
        default=DEFAULT_SKEW, description="how far after its reception an event time may be"
    )

    # table maintenance (accord.streaming.maintenance; RUNBOOK, "Table maintenance")
    lake_optimize_interval_minutes: int = Field(
        default=15, ge=0, description="the stream compacts its tables this often; 0 disables"
    )
    lake_vacuum_interval_minutes: int = Field(
        default=24 * 60, ge=0, description="the stream vacuums its tables this often; 0 disables"
    )
    lake_vacuum_retention_hours: int = Field(
        default=168, ge=0, description="VACUUM keeps unreferenced files (time travel) this many hours"
    )
    lake_compact_min_file_mb: int = Field(default=64, gt=0, description="files below this are compacted")
    lake_target_file_mb: int = Field(default=256, gt=0, description="size of the files compaction writes")
    lake_optimized_writes: bool = Field(
        default=True, description="each write lands one file per table partition (Delta optimized writes)"
    )
    lake_checkpoint_interval: int = Field(
        default=50, gt=0, description="commits between Delta checkpoints of the tables the jobs create"
    )

    s3_endpoint: str | None = Field(
        default=None, description="S3-compatible endpoint, e.g. http://127.0.0.1:9000"
    )
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_path_style: bool = True
    s3_log_store: Literal["conditional-put", "single-driver"] = Field(
        default="conditional-put",
        description="how Delta commits on S3: conditional writes (several writing applications) "
        "or Delta's default, safe inside one Spark application only (servers without If-None-Match)",
    )

    @property
    def uses_s3(self) -> bool:
        """True when the lake or the checkpoints are on S3 (the hadoop-aws jars are then needed)."""
        return any(uri.startswith("s3a://") for uri in (self.lake_uri, self.checkpoint_uri or ""))
