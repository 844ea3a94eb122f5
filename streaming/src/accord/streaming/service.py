"""The `stream` service `accord up` starts: Bronze and Silver in one Spark application."""

from __future__ import annotations

from accord.runtime.addresses import stream_metrics_port
from accord.runtime.services import accord_executable
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec
from accord.streaming.progress import ProgressFile, describe


def service(settings: RuntimeSettings) -> ServiceSpec:
    """Entry point of the `accord.services` group: `accord stream serve`, after the gateway."""
    progress = ProgressFile(settings.state_dir)
    metrics_port = stream_metrics_port()
    return ServiceSpec(
        name="stream",
        order=30,
        command=lambda: [accord_executable(), "stream", "serve"],
        ports=(metrics_port,) if metrics_port else (),
        ready=lambda: bool(progress.read().get("app", {}).get("ready")),
        env={
            "ACCORD_LOG_LEVEL": "INFO",
            "ACCORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "ACCORD_EVENTS_TOPIC": settings.events_topic,
            "ACCORD_STATE_DIR": str(settings.state_dir),
            "ACCORD_CACHE_DIR": str(settings.cache_dir),
        },
        prepare=lambda: progress.update("app", {"ready": False}),
        start_timeout_s=180,
        describe=lambda: describe(progress.read()),
    )
