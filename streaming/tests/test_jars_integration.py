"""The connector jars: pinned to pyspark, no second copy of pyspark's own jars, no network once cached."""

from __future__ import annotations

import pyspark
import pytest

from accord.streaming.jars import connector_jars, pyspark_artifacts
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.integration


def test_cached_jars_are_found_without_maven_or_network(
    spark_settings: StreamingSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector_jars(spark_settings.cache_dir)  # resolves once when the cache is cold
    monkeypatch.setenv("PATH", "")  # no `mvn` to call: a warm start must not need it
    names = [jar.name for jar in connector_jars(spark_settings.cache_dir)]

    version = pyspark.__version__
    assert f"spark-sql-kafka-0-10_2.13-{version}.jar" in names
    assert f"spark-avro_2.13-{version}.jar" in names
    major_minor = ".".join(version.split(".")[:2])
    assert any(name.startswith(f"delta-spark_{major_minor}_2.13-") for name in names)
    shipped = pyspark_artifacts()
    assert not [name for name in names if name.rsplit("-", 1)[0] in shipped]
