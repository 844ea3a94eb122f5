"""pytest fixtures for the streaming jobs: one Spark session, registered schemas, private lakes.

Loaded for the whole repository through `-p accord.streaming.testing` in the root pytest config.
`spark` is shared by every Spark test (Gold and the contract suite included); `pipeline` gives
a test a fresh lake fed from the session broker's `events` topic, starting at the offsets the
topic has when the test begins, so tests never see each other's events.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from accord.registry.testing import RegistryHandle
    from accord.runtime.testing import BrokerHandle
    from accord.streaming.ops import BatchCounts
    from accord.streaming.schemas import SchemaCatalog


@pytest.fixture(scope="session")
def spark_settings(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> StreamingSettings:
    """Streaming settings for tests: local[2], small shuffles, a lake in a temporary folder."""
    return StreamingSettings(
        lake_uri=str(tmp_path_factory.mktemp("lake")),
        state_dir=tmp_path_factory.mktemp("streaming-state"),
        cache_dir=Path(pytestconfig.rootpath) / ".cache",
        shuffle_partitions=2,
        trigger_interval="1 second",
    )


@pytest.fixture(scope="session")
def spark(spark_settings: StreamingSettings) -> Iterator[SparkSession]:
    """One Spark session (local[2], Delta + Kafka + Avro + S3A jars, UI off) shared by every test.

    The S3A jars are on the classpath from the start, because a running JVM cannot add them.
    """
    from accord.streaming.session import build_session

    session = build_session(spark_settings, "accord-tests", s3=True)
    yield session
    session.stop()


def topic_end_offsets(bootstrap: str, topic: str) -> str:
    """The topic's current end offsets as the Kafka source's JSON (`{"topic": {"0": n, ...}}`)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "accord-tests-offsets"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {
            str(p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
    finally:
        consumer.close()
    return json.dumps({topic: ends})


@pytest.fixture(scope="session")
def registered_schemas(registry_server: RegistryHandle, pytestconfig: pytest.Config) -> str:
    """The repository's schemas registered in the session registry; returns its URL."""
    from accord.registry.client import RegistryClient
    from accord.schemas.catalog import load_catalog
    from accord.schemas.register import register_catalog

    register_catalog(
        load_catalog(Path(pytestconfig.rootpath) / "schemas" / "avro"), RegistryClient(registry_server.url)
    )
    return registry_server.url


@dataclass
class Pipeline:
    """A private lake fed from the session topic, with the jobs run over what is available."""

    spark: SparkSession
    settings: StreamingSettings
    catalog: SchemaCatalog

    @property
    def lake(self) -> Lake:
        """Paths of this pipeline's tables."""
        return Lake.from_settings(self.settings)

    def bronze(self) -> None:
        """Copy every record Kafka holds now into Bronze (the first of the two hops)."""
        from accord.streaming.bronze import start_bronze

        start_bronze(self.spark, self.settings, available_now=True).awaitTermination()

    def silver(self) -> None:
        """Process every Bronze row the Bronze → Silver query has not processed yet (the second hop)."""
        from accord.streaming.silver import start_silver

        start_silver(self.spark, self.settings, self.catalog, available_now=True).awaitTermination()

    def run(self) -> None:
        """Every record Kafka holds now through Bronze and Silver, as the stream service does."""
        from accord.streaming.ingest import start_ingest

        start_ingest(self.spark, self.settings, self.catalog, available_now=True).awaitTermination()

    @contextlib.contextmanager
    def streaming(self) -> Iterator[None]:
        """The service's query running continuously (trigger interval of the settings) inside the block."""
        from accord.streaming.ingest import start_ingest

        query = start_ingest(self.spark, self.settings, self.catalog)
        try:
            yield
        finally:
            query.stop()

    def wait_for(self, table: str, condition: str, rows: int, timeout_s: float = 240) -> None:
        """Wait until `table` holds at least `rows` rows matching the SQL `condition`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            from accord.streaming.delta_io import table_exists

            if (
                table_exists(self.spark, getattr(self.lake, table))
                and self.table(table).filter(condition).count() >= rows
            ):
                return
            time.sleep(1)
        raise AssertionError(f"{table} has not reached {rows} rows matching {condition} in {timeout_s}s")

    def table(self, name: str) -> DataFrame:
        """One of the lake's tables: `bronze`, `silver`, `quarantine`, `silver_batches`, `assignments`."""
        path: str = getattr(self.lake, name)
        return self.spark.read.format("delta").load(path)

    def batches(self) -> list[BatchCounts]:
        """Every recorded Silver batch, in order."""
        from accord.streaming.ops import BatchCounts

        rows = self.table("silver_batches").orderBy("finished_at").collect()
        return [BatchCounts(**{k: v for k, v in row.asDict().items()}) for row in rows]


@pytest.fixture
def pipeline(
    spark: SparkSession,
    spark_settings: StreamingSettings,
    kafka_broker: BrokerHandle,
    registered_schemas: str,
    tmp_path: Path,
) -> Pipeline:
    """A fresh lake reading the session topic from its current end, decoding with the session registry."""
    from accord.streaming.schemas import RegistrySchemas, SchemaCatalog

    topic = kafka_broker.settings.events_topic
    settings = spark_settings.model_copy(
        update={
            "lake_uri": str(tmp_path / "lake"),
            "state_dir": tmp_path / "state",
            "kafka_bootstrap": kafka_broker.bootstrap,
            "events_topic": topic,
            "registry_url": registered_schemas,
            "starting_offsets": topic_end_offsets(kafka_broker.bootstrap, topic),
        }
    )
    return Pipeline(spark, settings, SchemaCatalog(RegistrySchemas(registered_schemas), topic))


def envelope(
    event_id: str | None = None,
    *,
    event_time_ms: int,
    user_id: str | None = "user-0",
    anonymous_id: str | None = None,
) -> dict[str, object]:
    """An `accord.common.Envelope` as the gateway's JSON API takes it."""
    import uuid

    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_time": event_time_ms,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "session_id": "session-1",
        "context": {"app_name": "tests", "platform": "WEB"},
    }


def post_events(
    gateway_url: str, write_key: str, events: list[dict[str, Any]], sent_at_ms: int
) -> dict[str, Any]:
    """POST a JSON batch (`[{"schema", "payload"}]`) to the gateway; returns its answer's body."""
    from datetime import UTC, datetime

    import httpx

    sent_at = datetime.fromtimestamp(sent_at_ms / 1000, UTC).isoformat(timespec="milliseconds")
    answer = httpx.post(
        f"{gateway_url}/v1/events",
        json={"sent_at": sent_at, "events": events},
        headers={"Authorization": f"Bearer {write_key}"},
        timeout=30,
    )
    assert answer.status_code in (200, 207, 422), answer.text
    body: dict[str, Any] = answer.json()
    return body


def produce_raw(bootstrap: str, topic: str, values: list[bytes], received_at_ms: int) -> None:
    """Produce values straight to Kafka, as a producer that bypasses the gateway would."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(
            topic, key=b"raw", value=value, headers=[("accord.received_at", str(received_at_ms))]
        )
    assert producer.flush(10) == 0
