"""Run the registry: verify the topic, start following it, serve HTTP until stopped."""

from __future__ import annotations

import logging

import uvicorn

from accord.registry.app import create_app
from accord.registry.kafka_log import SchemasLog, ensure_schemas_topic
from accord.registry.operations import Registry
from accord.registry.settings import RegistrySettings
from accord.registry.store import SchemaStore

log = logging.getLogger(__name__)


def serve(settings: RegistrySettings) -> None:
    """Serve the registry in this process until SIGINT / SIGTERM."""
    client_config = settings.kafka_security.librdkafka()
    ensure_schemas_topic(settings.kafka_bootstrap, settings.topic, client_config=client_config)
    store = SchemaStore()
    schemas_log = SchemasLog(settings.kafka_bootstrap, settings.topic, store, client_config=client_config)
    schemas_log.start()
    registry = Registry(store, schemas_log, settings.write_timeout_s)
    app = create_app(registry, settings, schemas_log.progress)
    log.info(
        "registry starting",
        extra={
            "host": settings.host,
            "port": settings.port,
            "topic": settings.topic,
            "bootstrap": settings.kafka_bootstrap,
            "follower_of": settings.writer_url,
            "auth": bool(settings.users),
        },
    )
    try:
        # log_config=None: uvicorn's loggers go through the process's JSON handler
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            log_level="warning",
            access_log=False,
        )
    finally:
        schemas_log.close()
