"""A single-node Apache Kafka 4 broker in KRaft mode, run from jars resolved from Maven Central."""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from accord.runtime.errors import ServiceStartError
from accord.runtime.jars import java_executable, resolve_jars
from accord.runtime.jvm_logs import write_log4j2_config
from accord.runtime.logs import kafka_client_logging
from accord.runtime.ports import port_answers
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec, tail

log = logging.getLogger(__name__)

# the broker's per-request and replica state-change loggers repeat at INFO what its own loggers say
_QUIET_LOGGERS = {"kafka.request.logger": "WARN", "state.change.logger": "WARN"}


def kafka_jars(settings: RuntimeSettings) -> Path:
    """Resolve (once) and return the folder holding the broker's jars."""
    pom = Path(str(resources.files("accord.runtime") / "jvm" / "kafka-pom.xml"))
    dest = settings.cache_dir / "jvm" / "kafka"
    resolve_jars(pom, dest)
    return dest


def server_properties(settings: RuntimeSettings, data_dir: Path) -> str:
    """The broker's configuration: combined broker and controller, one node, static quorum."""
    host, port, cport = settings.kafka_host, settings.kafka_port, settings.kafka_controller_port
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{cport}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir.resolve()),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        # one broker: never wait for replicas that cannot exist
        "min.insync.replicas": "1",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


class KafkaBroker:
    """Files and commands of the local broker under `state_dir/kafka/`."""

    name = "kafka"

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.home = settings.state_dir / self.name
        self.data_dir = self.home / "data"
        self.config_file = self.home / "server.properties"
        self.log4j_file = self.home / "log4j2.properties"

    def _java_command(self, main: str, *args: str) -> list[str]:
        jars = kafka_jars(self.settings)
        return [
            java_executable(),
            *self.settings.kafka_heap.split(),
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_file.resolve()}",
            f"-Dkafka.logs.dir={self.home.resolve()}",
            "-cp",
            f"{jars.resolve()}/*",
            main,
            *args,
        ]

    def prepare(self) -> None:
        """Write the configuration and format the storage on first start (kept afterwards)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(server_properties(self.settings, self.data_dir))
        write_log4j2_config(self.log4j_file, self.settings.kafka_log_level, _QUIET_LOGGERS)
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        done = subprocess.run(
            self._java_command(
                "kafka.tools.StorageTool",
                "format",
                # `=` form: a base64 id may start with `-`, which argparse would take for an option
                f"--cluster-id={cluster_id}",
                "-c",
                str(self.config_file),
                "--ignore-formatted",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceStartError(
                self.name, "formatting storage failed", (done.stdout + done.stderr).splitlines()[-10:]
            )

    def command(self) -> list[str]:
        """The broker's command line."""
        return self._java_command("kafka.Kafka", str(self.config_file.resolve()))

    def ready(self) -> bool:
        """True when the broker answers a metadata request."""
        if not port_answers(self.settings.kafka_host, self.settings.kafka_port):
            return False
        return broker_answers(self.settings.kafka_bootstrap)

    def log_tail(self, lines: int = 10) -> list[str]:
        """The last lines the broker logged."""
        return tail(self.home / f"{self.name}.log", lines)

    def spec(self) -> ServiceSpec:
        """The broker as a supervised service."""
        return ServiceSpec(
            name=self.name,
            order=0,
            command=self.command,
            ports=(self.settings.kafka_port, self.settings.kafka_controller_port),
            host=self.settings.kafka_host,
            ready=self.ready,
            prepare=self.prepare,
            after_start=lambda: ensure_topics(
                self.settings.kafka_bootstrap,
                {
                    self.settings.events_topic: self.settings.kafka_partitions,
                    self.settings.deadletter_topic: self.settings.kafka_partitions,
                },
            ),
            start_timeout_s=self.settings.start_timeout_s,
            describe=lambda: f"bootstrap {self.settings.kafka_bootstrap}",
        )


def broker_answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when the broker at `bootstrap` answers a metadata request within `timeout_s`."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        admin.list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def ensure_topics(bootstrap: str, topics: Mapping[str, int], config: Mapping[str, str] | None = None) -> None:
    """Create the topics that do not exist yet, with the given partition counts."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **kafka_client_logging()})
    existing = admin.list_topics(timeout=10).topics
    wanted = [
        NewTopic(name, num_partitions=partitions, replication_factor=1, config=dict(config or {}))
        for name, partitions in topics.items()
        if name not in existing
    ]
    if not wanted:
        return
    for name, future in admin.create_topics(wanted).items():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
        log.info("topic created", extra={"topic": name})


def service(settings: RuntimeSettings) -> ServiceSpec:
    """Entry point of the `accord.services` group: the Kafka broker."""
    return KafkaBroker(settings).spec()
