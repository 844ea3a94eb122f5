"""Apache Kafka 4 in KRaft mode, one broker or a cluster, run from jars resolved from Maven Central.

With `ACCORD_KAFKA_BROKERS=1` (the default) one node is broker and controller, as a service
named `kafka`. With N brokers the services are `kafka-1` … `kafka-N`, each with its own ports and
data dir under `state_dir/kafka-<i>/`; the first three (or the first alone, below three brokers)
are also the controller quorum, a static one (`controller.quorum.voters`) as in Kafka's own
container image.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from accord.runtime.addresses import bootstrap_list
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


CONTROLLER_QUORUM = 3
"""Controllers of a cluster of three brokers or more: the quorum survives one of them failing."""


@dataclass(frozen=True)
class BrokerNode:
    """One broker of the local cluster: its node id, ports and whether it is a controller."""

    node_id: int
    port: int
    controller_port: int
    controller: bool
    single: bool

    @property
    def name(self) -> str:
        """The service's name: `kafka` for a single broker, else `kafka-<node id>`."""
        return "kafka" if self.single else f"kafka-{self.node_id}"


def cluster_nodes(settings: RuntimeSettings) -> list[BrokerNode]:
    """The brokers `settings` describes, by node id from 1."""
    count = settings.kafka_brokers
    controllers = CONTROLLER_QUORUM if count >= CONTROLLER_QUORUM else 1
    return [
        BrokerNode(index + 1, port, controller_port, index < controllers, count == 1)
        for index, (port, controller_port) in enumerate(
            zip(settings.kafka_ports, settings.kafka_controller_ports, strict=True)
        )
    ]


def server_properties(settings: RuntimeSettings, data_dir: Path, node: BrokerNode | None = None) -> str:
    """A node's configuration (the first node's by default): static quorum, replication from `settings`."""
    nodes = cluster_nodes(settings)
    node = node or nodes[0]
    host = settings.kafka_host
    replicas, min_isr = str(settings.replication_factor), str(settings.min_insync_replicas)
    listeners = f"PLAINTEXT://{host}:{node.port}"
    if node.controller:
        listeners += f",CONTROLLER://{host}:{node.controller_port}"
    props = {
        "process.roles": "broker,controller" if node.controller else "broker",
        "node.id": str(node.node_id),
        "controller.quorum.voters": ",".join(
            f"{voter.node_id}@{host}:{voter.controller_port}" for voter in nodes if voter.controller
        ),
        "listeners": listeners,
        "advertised.listeners": f"PLAINTEXT://{host}:{node.port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir.resolve()),
        "num.partitions": "1",
        "default.replication.factor": replicas,
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        # a single broker never waits for replicas that cannot exist; a cluster's acks=all write
        # is on `min_isr` brokers before it is acknowledged
        "min.insync.replicas": min_isr,
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


class KafkaBroker:
    """Files and commands of one local broker under `state_dir/<name>/` (`kafka/` for a single one)."""

    def __init__(self, settings: RuntimeSettings, node: BrokerNode | None = None) -> None:
        self.settings = settings
        self.node = node or cluster_nodes(settings)[0]
        self.name = self.node.name
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
        self.config_file.write_text(server_properties(self.settings, self.data_dir, self.node))
        write_log4j2_config(self.log4j_file, self.settings.kafka_log_level, _QUIET_LOGGERS)
        if (self.data_dir / "meta.properties").exists():
            return
        done = subprocess.run(
            self._java_command(
                "kafka.tools.StorageTool",
                "format",
                # `=` form: a base64 id may start with `-`, which argparse would take for an option
                f"--cluster-id={cluster_id(self.settings)}",
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
        """True when this broker answers a metadata request that lists it."""
        if not port_answers(self.settings.kafka_host, self.node.port):
            return False
        own = bootstrap_list(self.settings.kafka_host, [self.node.port])
        return self.node.node_id in cluster_brokers(own)

    def listening(self) -> bool:
        """True when this broker's process accepts connections (it answers requests once a
        majority of the controller quorum runs, so the first brokers of a new cluster wait only
        for this)."""
        port = self.node.controller_port if self.node.controller else self.node.port
        return port_answers(self.settings.kafka_host, port)

    def stranded(self) -> bool:
        """True when this broker, stopping, still waits for a shutdown grant that cannot come.

        A broker stops taking connections once its controller quorum grants its controlled
        shutdown; one that still takes them while fewer than a majority of the quorum's
        controllers answer would wait minutes for that grant. Kafka's own system tests stop such a
        node by force too.
        """
        host = self.settings.kafka_host
        voters = [node for node in cluster_nodes(self.settings) if node.controller]
        answering = sum(port_answers(host, voter.controller_port) for voter in voters)
        return answering <= len(voters) // 2 and port_answers(host, self.node.port)

    def log_tail(self, lines: int = 10) -> list[str]:
        """The last lines the broker logged."""
        return tail(self.home / f"{self.name}.log", lines)

    def spec(self, *, last: bool = True) -> ServiceSpec:
        """The broker as a supervised service; the `last` one waits for all and creates the topics."""
        settings = self.settings
        ports = (self.node.port, self.node.controller_port) if self.node.controller else (self.node.port,)
        return ServiceSpec(
            name=self.name,
            order=0,
            command=self.command,
            ports=ports,
            host=settings.kafka_host,
            ready=self.ready,
            started=(lambda: cluster_complete(settings)) if last else self.listening,
            prepare=self.prepare,
            after_start=(lambda: ensure_platform_topics(settings)) if last else None,
            start_timeout_s=settings.start_timeout_s,
            describe=lambda: f"bootstrap {settings.local_bootstrap}",
            stranded=self.stranded,
        )


def cluster_id(settings: RuntimeSettings) -> str:
    """The KRaft cluster id, drawn once per state dir and shared by every node that formats there."""
    path = settings.state_dir / "kafka-cluster-id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())
    return path.read_text().strip()


def cluster_brokers(bootstrap: str, timeout_s: float = 2.0) -> set[int]:
    """The node ids of the brokers the cluster at `bootstrap` lists; empty when it does not answer."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        return set(admin.list_topics(timeout=timeout_s).brokers)
    except KafkaException:
        return set()


def cluster_complete(settings: RuntimeSettings) -> bool:
    """True when every local broker is registered with the cluster."""
    wanted = {node.node_id for node in cluster_nodes(settings)}
    return wanted <= cluster_brokers(settings.local_bootstrap)


def ensure_platform_topics(settings: RuntimeSettings) -> None:
    """The `events` topic and its dead letters, with the partitions and replication of `settings`."""
    ensure_topics(
        settings.local_bootstrap,
        dict.fromkeys((settings.events_topic, settings.deadletter_topic), settings.kafka_partitions),
        settings.topic_config,
        replication_factor=settings.replication_factor,
    )


def broker_answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when the broker at `bootstrap` answers a metadata request within `timeout_s`."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        admin.list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    config: Mapping[str, str] | None = None,
    *,
    replication_factor: int = 1,
) -> None:
    """Create the topics that do not exist yet, with the given partition counts."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **kafka_client_logging()})
    existing = admin.list_topics(timeout=10).topics
    wanted = [
        NewTopic(name, partitions, replication_factor, config=dict(config or {}))
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


def service(settings: RuntimeSettings) -> list[ServiceSpec]:
    """Entry point of the `accord.services` group: the Kafka broker, or every broker of the cluster."""
    nodes = cluster_nodes(settings)
    return [KafkaBroker(settings, node).spec(last=node is nodes[-1]) for node in nodes]
