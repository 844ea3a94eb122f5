"""pytest fixtures for the streaming jobs: one Spark session, registered schemas, private lakes.

Loaded for the whole repository through `-p accord.streaming.testing` in the root pytest config.
`spark` is shared by every Spark test (Gold and the contract suite included); `pipeline` gives
a test a fresh lake fed from the session broker's `events` topic, starting at the offsets the
topic has when the test begins, so tests never see each other's events. `lake` and
`write_silver` give a test an empty lake and Silver-shaped rows (`silver_event`) written to it,
for what reads Silver (Gold, the ledger, trace) without running the jobs. `read_events` reads
back from the `events` topic what a client sent through the gateway. `s3_server` is an
S3-compatible server (moto, and SeaweedFS) on loopback with one empty bucket, for a lake on S3.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import shutil
import struct
import subprocess
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from accord.runtime.jars import require_tool
from accord.runtime.ports import free_port, free_port_block
from accord.runtime.testing import KafkaRecord, TopicReader
from accord.runtime.waiting import wait_until
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings
from accord.streaming.standalone import StandaloneCluster
from accord.wire import headers as wire_headers

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from accord.registry.testing import RegistryHandle
    from accord.runtime.testing import BrokerHandle
    from accord.streaming.batch_schemas import BatchSchemaResolver
    from accord.streaming.ops import BatchCounts


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
        # the tests start stream services by the dozen; the warm-up has tests of its own
        stream_warmup_batches=0,
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


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A Spark standalone master and two workers (1 core, 1 GiB each) on loopback, for the session.

    A test that kills a worker starts it again before it ends, so the next test finds two.
    """
    cluster = StandaloneCluster(tmp_path_factory.mktemp("spark-cluster"), workers=2, cores=1, memory="1g")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def job_env(settings: StreamingSettings, **extra: str) -> dict[str, str]:
    """The environment that makes an `accord` job command run with `settings` (plus `extra` variables)."""
    env = {
        **os.environ,
        "ACCORD_LAKE_URI": settings.lake_uri,
        "ACCORD_STATE_DIR": str(settings.state_dir),
        "ACCORD_CACHE_DIR": str(settings.cache_dir),
        "ACCORD_REGISTRY_URL": settings.registry_url,
        "ACCORD_EVENTS_TOPIC": settings.events_topic,
        "ACCORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ACCORD_STARTING_OFFSETS": settings.starting_offsets,
        "ACCORD_SHUFFLE_PARTITIONS": str(settings.shuffle_partitions),
        "ACCORD_SPARK_MASTER": settings.spark_master,
        "ACCORD_SPARK_EXECUTOR_MEMORY": settings.spark_executor_memory,
        "ACCORD_SPARK_EXECUTOR_CORES": str(settings.spark_executor_cores),
        "ACCORD_STREAM_WARMUP_BATCHES": str(settings.stream_warmup_batches),
        "ACCORD_LOG_LEVEL": "INFO",
        # tests run every server on loopback, the driver that executors connect back to included
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    if settings.spark_cores_max is not None:
        env["ACCORD_SPARK_CORES_MAX"] = str(settings.spark_cores_max)
    if settings.s3_endpoint:
        env |= {"ACCORD_S3_ENDPOINT": settings.s3_endpoint, "ACCORD_S3_REGION": settings.s3_region}
    if settings.s3_access_key and settings.s3_secret_key:
        env["ACCORD_S3_ACCESS_KEY"] = settings.s3_access_key.get_secret_value()
        env["ACCORD_S3_SECRET_KEY"] = settings.s3_secret_key.get_secret_value()
    return {**env, **extra}


def on_cluster(settings: StreamingSettings, cluster: StandaloneCluster, lake: Path) -> StreamingSettings:
    """`settings` for an application on `cluster`: one 1-core, 512 MiB executor per worker, its own lake."""
    return settings.model_copy(
        update={
            "spark_master": cluster.master_url,
            "spark_executor_memory": "512m",
            "spark_executor_cores": 1,
            "spark_cores_max": cluster.workers * cluster.cores,
            "lake_uri": str(lake),
            "state_dir": lake.parent / "cluster-state",
        }
    )


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
    register_event_schemas(registry_server.url, Path(pytestconfig.rootpath) / "schemas" / "avro")
    return registry_server.url


@dataclass
class Pipeline:
    """A private lake fed from the session topic, with the jobs run over what is available."""

    spark: SparkSession
    settings: StreamingSettings
    catalog: BatchSchemaResolver

    @property
    def lake(self) -> Lake:
        """Paths of this pipeline's tables."""
        return Lake.from_settings(self.settings)

    def with_settings(self, **update: Any) -> Pipeline:
        """This pipeline with `update` applied to its settings and a new catalog, as a restarted stream."""
        from accord.streaming.schema_cache import stream_catalog

        settings = self.settings.model_copy(update=update)
        return Pipeline(self.spark, settings, stream_catalog(settings))

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

    def start_process(self, command: str, log_path: Path, **env: str) -> subprocess.Popen[bytes]:
        """`accord stream <command>` over this pipeline's lake, topic and registry, in its own session.

        Its output is appended to `log_path`; `env` adds or overrides `ACCORD_*` variables.
        """
        from accord.runtime.services import accord_executable

        environment = job_env(self.settings, ACCORD_TRIGGER_INTERVAL=self.settings.trigger_interval, **env)
        with log_path.open("ab") as log:
            return subprocess.Popen(
                [accord_executable(), "stream", command],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def assert_each_in_silver_once(self, event_ids: set[str], what: str) -> Counter[str]:
        """Run the ingest once over what Kafka holds, then check each of `event_ids` is in Silver once.

        No event of the lake is in Silver twice either, and the lake's ledger reconciles (Bronze =
        Silver + Quarantine + duplicates removed). Prints the figures (shown with `pytest -s`)
        under `what`; returns how many times each event id is in Silver.
        """
        from accord.streaming.inspect.cli import collect_ledger

        self.run()
        in_silver = Counter(row.event_id for row in self.table("silver").select("event_id").collect())
        missing = {event_id for event_id in event_ids if in_silver[event_id] == 0}
        duplicated = sum(1 for n in in_silver.values() if n > 1)
        print(
            f"{what}, Silver: acknowledged {len(event_ids):,}, in Silver {len(event_ids) - len(missing):,}, "
            f"lost {len(missing):,}, duplicated {duplicated:,}"
        )
        assert not missing, f"{len(missing)} events are not in Silver, e.g. {sorted(missing)[:3]}"
        assert duplicated == 0, f"{duplicated} events are in Silver twice or more"
        # the gateway's counts restart with each gateway process, so only the lake's stages are compared
        ledger = collect_ledger(self.settings, gateway=False, kafka=False)
        assert ledger.reconciles, ledger.total
        return in_silver

    def wait_for(self, table: str, condition: str, rows: int, timeout_s: float = 240) -> None:
        """Wait until `table` holds at least `rows` rows matching the SQL `condition`."""
        from accord.streaming.delta_io import table_exists

        def matching() -> int:
            if not table_exists(self.spark, getattr(self.lake, table)):
                return 0
            return int(self.table(table).filter(condition).count())

        wait_until(
            matching,
            until=lambda count: count >= rows,
            timeout_s=timeout_s,
            interval_s=1,
            describe=f"{rows} rows of {table} matching {condition}",
        )

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
    from accord.streaming.schema_cache import stream_catalog

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
    return Pipeline(spark, settings, stream_catalog(settings))


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
    """POST a JSON batch (`[{"schema", "payload"}]`) sent at `sent_at_ms`; returns the answer's body."""
    from accord.gateway.testing import post_json

    sent_at = datetime.fromtimestamp(sent_at_ms / 1000, UTC).isoformat(timespec="milliseconds")
    answer = post_json(gateway_url, write_key, events, sent_at=sent_at)
    assert answer.status_code in (200, 207, 422), answer.text
    body: dict[str, Any] = answer.json()
    return body


def produce_raw(bootstrap: str, topic: str, values: list[bytes], received_at_ms: int) -> None:
    """Produce values straight to Kafka, as a producer that bypasses the gateway would."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(
            topic,
            key=b"raw",
            value=value,
            headers=[(wire_headers.RECEIVED_AT, wire_headers.encode_millis(received_at_ms))],
        )
    assert producer.flush(10) == 0


SILVER_DDL = (
    "event_id string, event_type string, subject string, schema_id int, event_time timestamp, "
    "sent_at timestamp, received_at timestamp, event_time_corrected timestamp, user_id string, "
    "anonymous_id string, session_id string, "
    "experiment_exposure struct<experiment_id: string, variant: string>, "
    "purchase struct<order_id: string, amount: decimal(12,2), currency: string>, "
    "conversion struct<name: string, value: decimal(12,2)>, "
    "experiments map<string,string>, is_late boolean, kafka_topic string, kafka_partition int, "
    "kafka_offset long, processed_at timestamp, event_date date"
)

T0 = datetime(2026, 3, 2, 9, 0, 0)
_offsets = itertools.count()


def silver_event(
    event_type: str,
    user: str,
    at: datetime,
    *,
    variant: str | None = None,
    experiment: str = "new_checkout",
    amount: str | None = None,
    name: str | None = None,
    late: bool = False,
    anonymous: bool = False,
) -> dict[str, Any]:
    """One Silver row as the Silver job writes it (only the columns Gold reads are filled)."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "subject": f"events-accord.events.{event_type}",
        "schema_id": 1,
        "event_time": at,
        "sent_at": at,
        "received_at": at + (timedelta(hours=30) if late else timedelta(seconds=1)),
        "event_time_corrected": at,
        "user_id": None if anonymous else user,
        "anonymous_id": user if anonymous else None,
        "session_id": None,
        "experiment_exposure": {"experiment_id": experiment, "variant": variant} if variant else None,
        "purchase": {"order_id": str(uuid.uuid4()), "amount": Decimal(amount), "currency": "EUR"}
        if event_type == "purchase" and amount
        else None,
        "conversion": {"name": name, "value": Decimal(amount) if amount else None} if name else None,
        "experiments": {},
        "is_late": late,
        "kafka_topic": "events",
        "kafka_partition": 0,
        "kafka_offset": next(_offsets),
        "processed_at": at,
        "event_date": at.date(),
    }


SilverWriter = Callable[..., None]


@pytest.fixture
def lake(spark_settings: StreamingSettings, tmp_path: Path) -> Lake:
    """A fresh, empty lake for one test."""
    return Lake.from_settings(spark_settings.model_copy(update={"lake_uri": str(tmp_path / "lake")}))


@pytest.fixture
def write_silver(spark: SparkSession, lake: Lake) -> SilverWriter:
    """Append rows to the test lake's Silver table, partitioned as the Silver job partitions it."""

    def write(rows: Iterable[dict[str, Any]], without: tuple[str, ...] = ()) -> None:
        """`without`: event-type columns Silver does not have yet (no such event arrived)."""
        frame = spark.createDataFrame(list(rows), SILVER_DDL).drop(*without)
        frame.write.format("delta").mode("append").partitionBy("event_date", "event_type").save(lake.silver)

    return write


@dataclass(frozen=True)
class Delivered(KafkaRecord):
    """One record of the `events` topic, with the means to read its Avro body."""

    @property
    def schema_id(self) -> int:
        """The schema id of the Confluent framing."""
        from accord.wire.framing import unframe

        return unframe(self.value).schema_id

    def decode(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The Avro record, read with `schema` (the writer's)."""
        from fastavro import parse_schema, schemaless_reader

        from accord.wire.framing import unframe

        body = unframe(self.value).avro_body
        return cast("dict[str, Any]", schemaless_reader(io.BytesIO(body), parse_schema(schema), None))


def register_event_schemas(registry_url: str, schemas_dir: Path | None = None) -> dict[str, int]:
    """Register the contracts the way `accord schemas register` does (shared types referenced).

    Returns the schema id of every subject; `schemas_dir` defaults to the schemas settings' folder.
    """
    from accord.registry_client import RegistryClient
    from accord.schemas.catalog import load_catalog
    from accord.schemas.register import register_catalog
    from accord.schemas.settings import SchemasSettings

    settings = SchemasSettings()
    catalog = load_catalog(schemas_dir or settings.schemas_dir, settings.events_topic)
    return {r.subject: r.schema_id for r in register_catalog(catalog, RegistryClient(registry_url))}


class PageViewFramer:
    """Framed `PageView`-shaped records of a subject's latest version, as the gateway frames them."""

    def __init__(self, registry_url: str, subject: str = "events-accord.events.PageView") -> None:
        from accord.registry_client import RegistryClient

        client = RegistryClient(registry_url)
        self.schema_id = client.latest(subject).id
        self.schema = client.resolved_schema(self.schema_id)

    def record(
        self, event_time_ms: int, *, url: str | int = "https://framed/", event_id: str | None = None
    ) -> tuple[str, bytes]:
        """One framed event (a new UUIDv4 id unless `event_id` is given) and its id."""
        import fastavro

        event_id = event_id or str(uuid.uuid4())
        record = {
            "envelope": {
                "event_id": event_id,
                "event_time": event_time_ms,
                "user_id": "user-framed",
                "anonymous_id": None,
                "session_id": None,
                "context": {"platform": "WEB"},
            },
            "url": url,
        }
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(self.schema), record)
        return event_id, struct.pack(">bI", 0, self.schema_id) + buffer.getvalue()


@contextlib.contextmanager
def registered_for_the_test(registry_url: str, subject: str, schema: dict[str, Any]) -> Iterator[None]:
    """`schema` registered under `subject` inside the block; the subject deleted for good afterwards.

    The session registry is shared: a subject left behind would be a contract of every later
    test's stream.
    """
    import httpx

    from accord.registry_client import RegistryClient

    RegistryClient(registry_url).register(subject, json.dumps(schema))
    try:
        yield
    finally:
        for permanent in ("false", "true"):
            answer = httpx.delete(f"{registry_url}/subjects/{subject}", params={"permanent": permanent})
            answer.raise_for_status()


def read_events(bootstrap: str, event_ids: set[str], timeout_s: float = 60.0) -> dict[str, list[Delivered]]:
    """Every record of `events` whose `accord.event_id` header is in `event_ids`, by id.

    Reads until all ids were seen and the topic has had nothing more to give for 2 s (so
    duplicates would show), or until `timeout_s` (the caller asserts on what is missing).
    """
    found: dict[str, list[Delivered]] = defaultdict(list)

    def all_seen(records: list[KafkaRecord]) -> bool:
        return event_ids <= {record.headers.get(wire_headers.EVENT_ID) for record in records}

    with TopicReader(bootstrap, "events", from_start=True) as reader:
        for record in reader.read_until(all_seen, timeout_s=timeout_s, quiet_s=2.0):
            event_id = record.headers.get(wire_headers.EVENT_ID)
            if event_id in event_ids:
                found[event_id].append(Delivered(record.key, record.value, record.headers))
    return dict(found)


# moto takes any credentials; these are only what the clients send
S3_TEST_CREDENTIAL = "testing"


@dataclass(frozen=True)
class S3Server:
    """An S3-compatible server on loopback holding one empty bucket, and the credentials it takes."""

    endpoint: str
    bucket: str
    access_key: str = S3_TEST_CREDENTIAL
    secret_key: str = S3_TEST_CREDENTIAL
    region: str = "us-east-1"

    def client(self) -> Any:
        """A boto3 S3 client of this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def lake_settings(self, settings: StreamingSettings, prefix: str = "lake") -> StreamingSettings:
        """`settings` with the lake under `s3a://<bucket>/<prefix>` of this server."""
        from pydantic import SecretStr

        return settings.model_copy(
            update={
                "lake_uri": f"s3a://{self.bucket}/{prefix}",
                "s3_endpoint": self.endpoint,
                "s3_access_key": SecretStr(self.access_key),
                "s3_secret_key": SecretStr(self.secret_key),
                "s3_region": self.region,
            }
        )


class _WritesOneAtATime:
    """A WSGI app that lets one write in at a time: moto checks `If-None-Match` and stores the
    object in two steps, where S3 does both at once."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return list(self.app(environ, start_response))
        with self.lock:
            return list(self.app(environ, start_response))


SEAWEEDFS_VERSION = "v0.0.0-20261109003541-7506e5f91cd6"
"""The SeaweedFS module version (4.53) the Go module proxy serves; its `weed` command is the server."""

S3_TEST_SERVERS = [
    name.strip()
    for name in os.environ.get("ACCORD_TEST_S3_SERVERS", "moto,seaweedfs").split(",")
    if name.strip()
]
"""The S3-compatible servers every S3 test runs against (`ACCORD_TEST_S3_SERVERS`)."""


def seaweedfs_binary(cache_dir: Path) -> Path:
    """SeaweedFS's `weed`, built with Go from the module proxy into `cache_dir` on first use.

    `go install module@version` refuses a module whose go.mod has replace directives, as
    SeaweedFS's has, so its source is downloaded and built as the main module.
    """
    binary = cache_dir / "seaweedfs" / SEAWEEDFS_VERSION / "weed"
    if binary.exists():
        return binary
    go = require_tool("go", "Install Go 1.25+ (https://go.dev/dl/, or apt-get install golang).")
    module = f"github.com/seaweedfs/seaweedfs@{SEAWEEDFS_VERSION}"
    downloaded = subprocess.run(
        [go, "mod", "download", "-json", module], capture_output=True, text=True, check=True
    )
    source = binary.parent / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(json.loads(downloaded.stdout)["Dir"], source)
    for folder in [source, *source.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)  # the module cache is read-only; the build writes beside its sources
    # a few minutes on two cores, once per cache; Go's progress goes to stderr
    partial = binary.with_suffix(".part")  # an interrupted build leaves no binary that looks whole
    subprocess.run([go, "build", "-o", str(partial), "./weed"], cwd=source, check=True)
    partial.rename(binary)
    shutil.rmtree(source)
    return binary


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build SeaweedFS before the first test when the run holds tests against it.

    The first build takes minutes on two cores: inside a test's setup it would count against
    that test's timeout. Without Go, those tests fail in their setup, naming what to install.
    """
    from accord.runtime.errors import MissingToolError

    if any(item.get_closest_marker("seaweedfs") for item in session.items):
        with contextlib.suppress(MissingToolError):
            seaweedfs_binary(Path(session.config.rootpath) / ".cache")


@contextlib.contextmanager
def _moto_server() -> Iterator[str]:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    port = free_port()
    app = _WritesOneAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="s3-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join()


@contextlib.contextmanager
def _seaweedfs_server(binary: Path, data: Path) -> Iterator[str]:
    """One `weed server` process: master, volume server, filer and S3 gateway, all on loopback."""
    first = free_port_block(8)
    flags = [
        f"-{role}{port}={first + 2 * index + offset}"
        for index, role in enumerate(("master", "volume", "filer", "s3"))
        for offset, port in enumerate((".port", ".port.grpc"))
    ]
    data.mkdir(parents=True)
    command = [
        str(binary), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-filer", "-s3",
        # the S3 gateway's Iceberg and Lance catalogs are not needed and would take fixed ports
        "-s3.port.iceberg=0", "-s3.port.lance=0", *flags,
    ]  # fmt: skip
    credentials = {"AWS_ACCESS_KEY_ID": S3_TEST_CREDENTIAL, "AWS_SECRET_ACCESS_KEY": S3_TEST_CREDENTIAL}
    endpoint = f"http://127.0.0.1:{first + 6}"
    with data.with_suffix(".log").open("wb") as log_out:
        server = subprocess.Popen(
            command, env={**os.environ, **credentials}, stdout=log_out, stderr=subprocess.STDOUT
        )
    try:
        wait_until(lambda: _answers_health(endpoint), timeout_s=60, describe="SeaweedFS's S3 gateway answers")
        yield endpoint
    finally:
        # the test is over and its data a temporary folder: a graceful stop of every role
        # (tens of seconds) would only hold up the next test
        server.kill()
        server.wait(timeout=10)


def _answers_health(endpoint: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{endpoint}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.seaweedfs] if name == "seaweedfs" else [])
        for name in S3_TEST_SERVERS
    ]
)
def s3_server(
    request: pytest.FixtureRequest, tmp_path: Path, pytestconfig: pytest.Config
) -> Iterator[S3Server]:
    """An S3-compatible server on a free loopback port with an empty bucket of its own, for one test:
    moto (in this process), and SeaweedFS (built from the Go module proxy, the lake's server in
    docker-compose), unless `ACCORD_TEST_S3_SERVERS` names only one of them.

    moto keeps its buckets in the memory of this process across servers, so each test's bucket
    has a name of its own: no test reads the tables an earlier test left behind.
    """
    if request.param == "moto":
        server = _moto_server()
    elif request.param == "seaweedfs":
        binary = seaweedfs_binary(Path(pytestconfig.rootpath) / ".cache")
        server = _seaweedfs_server(binary, tmp_path / "seaweedfs")
    else:
        raise ValueError(f"ACCORD_TEST_S3_SERVERS names {request.param!r}: the servers are moto, seaweedfs")
    with server as endpoint:
        s3 = S3Server(endpoint=endpoint, bucket=f"accord-lake-{uuid.uuid4().hex[:12]}")
        s3.client().create_bucket(Bucket=s3.bucket)
        yield s3
