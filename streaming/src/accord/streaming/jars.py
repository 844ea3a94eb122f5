"""The Spark connector jars (Kafka source, spark-avro, Delta, optionally S3A and the lake's S3 log store),
resolved or built by Maven once.

pyspark already ships Scala, Hadoop's shaded client, Avro, Parquet, Jackson and the logging
stack; a second copy of any of them at another version on the classpath only causes
confusion, so every artifact pyspark ships is left out of the copy.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from accord.runtime.jars import build_jar, resolve_jars

_VERSIONED_JAR = re.compile(r"^(?P<artifact>.+?)-\d[^-]*(?:-[^-]+)*\.jar$")


def pyspark_artifacts() -> set[str]:
    """Artifact ids of the jars bundled in the installed pyspark distribution."""
    import pyspark

    jars_dir = Path(pyspark.__file__).parent / "jars"
    names = set()
    for jar in jars_dir.glob("*.jar"):
        match = _VERSIONED_JAR.match(jar.name)
        if match:
            names.add(match.group("artifact"))
    return names


def spark_pom() -> Path:
    """The pom that pins the connector versions to the installed pyspark."""
    return Path(str(resources.files("accord.streaming") / "jvm" / "spark-pom.xml"))


def connector_jars(cache_dir: Path, *, s3: bool = False) -> list[Path]:
    """Resolve (first call only) and return the connector jars to pass as `spark.jars`.

    With `s3`, hadoop-aws and its AWS SDK bundle are added; they live in their own folder so the
    default cache stays small.
    """
    dest = cache_dir / "jvm" / ("spark-s3" if s3 else "spark")
    return resolve_jars(
        spark_pom(),
        dest,
        profiles=("s3",) if s3 else (),
        exclude_artifact_ids=sorted(pyspark_artifacts()),
    )


S3_CONDITIONAL_LOG_STORE = "dev.accord.delta.S3ConditionalPutLogStore"
"""The Delta log store (`jvm/logstore`) that commits on S3 with conditional writes."""


def log_store_jar(cache_dir: Path) -> Path:
    """Build (first call only) and return the jar of the S3 conditional-write log store."""
    project = Path(str(resources.files("accord.streaming") / "jvm" / "logstore"))
    return build_jar(project, cache_dir / "jvm" / "logstore")
