"""The Spark driver's log4j2 configuration: JSON lines, like every other service's log.

pyspark ships log4j2's JSON template layout, so the runtime's shared configuration
(`accord.runtime.jvm_logs`) applies as is; it is passed to the driver JVM when it starts.
"""

from __future__ import annotations

from accord.runtime.jvm_logs import write_log4j2_config
from accord.streaming.settings import StreamingSettings

# warnings every local start repeats and nobody can act on
_QUIET_LOGGERS = {
    "org.apache.hadoop.util.NativeCodeLoader": "ERROR",
    "org.apache.kafka.clients.admin.AdminClientConfig": "ERROR",
    "org.apache.kafka.clients.consumer.ConsumerConfig": "ERROR",
    "org.apache.parquet.CorruptStatistics": "ERROR",
    "org.sparkproject.jetty": "WARN",
}


def driver_java_options(settings: StreamingSettings) -> str:
    """`spark.driver.extraJavaOptions` that point log4j2 at the JSON configuration."""
    config = write_log4j2_config(settings.state_dir / "spark" / "log4j2.properties", "WARN", _QUIET_LOGGERS)
    return f"-Dlog4j2.configurationFile={config.as_uri()}"
