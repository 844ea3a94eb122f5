"""The Grafana dashboard and the Prometheus alert rules query only metrics the services export.

The gateway and the registry are scraped as they run; the stream's endpoint is the one the
stream service serves (`accord.streaming.metrics.serve_metrics`, with the periodic jobs it runs
beside its queries, Gold's experiment health among them). When `promtool` is installed
(Debian's `prometheus` package), the rules are also checked by Prometheus itself and their
unit tests (`docker/prometheus/alerts_test.yml`) run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from accord.gateway.testing import GatewayHandle
from accord.registry.testing import RegistryHandle
from accord.streaming.jobs import start_jobs
from accord.streaming.metrics import serve_metrics
from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "docker" / "grafana" / "dashboards" / "accord.json"
PROMETHEUS = ROOT / "docker" / "prometheus"
# series names a query may use; label names and values, functions and keywords do not start so
METRIC = re.compile(r"\b(accord_[a-z0-9_]+)\b")
JOB = re.compile(r'job="([^"]+)"')
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def exported_names(text: str) -> set[str]:
    """Every series name a scrape can hold, including those of labelled metrics not observed yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def scrape(url: str) -> str:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return response.text


def dashboard_queries() -> list[str]:
    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in panels(dashboard["panels"]) for target in panel.get("targets", [])]


def alert_queries() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


@pytest.fixture
def stream_metrics_url(tmp_path: Path) -> Iterator[str]:
    settings = StreamingSettings(state_dir=tmp_path, lake_uri=str(tmp_path / "lake"), stream_metrics_port=0)
    progress = ProgressFile(tmp_path)
    endpoint = serve_metrics(settings, progress)
    jobs = start_jobs(settings, progress, endpoint.metrics.registry)
    yield f"http://127.0.0.1:{endpoint.port}"
    jobs.stop()
    endpoint.stop()


def test_every_metric_the_dashboard_and_alerts_query_is_exported(
    gateway_server: GatewayHandle, registry_server: RegistryHandle, stream_metrics_url: str
) -> None:
    exported = set().union(
        *(
            exported_names(scrape(url))
            for url in (gateway_server.url, registry_server.url, stream_metrics_url)
        )
    )
    queries = {"dashboard": dashboard_queries(), "alerts": alert_queries()}
    assert len(queries["dashboard"]) >= 20
    assert len(queries["alerts"]) >= 8
    for source, exprs in queries.items():
        queried = {name for expr in exprs for name in METRIC.findall(expr)}
        assert queried, source
        assert queried <= exported, f"{source} queries metrics nobody exports: {sorted(queried - exported)}"
    # each service's own metrics are on the dashboard and under an alert
    dashboard_metrics = " ".join(queries["dashboard"])
    for prefix in ("accord_gateway_", "accord_registry_", "accord_stream_", "accord_experiment_"):
        assert prefix in dashboard_metrics
        assert prefix in " ".join(queries["alerts"])


def test_queries_name_the_jobs_prometheus_scrapes() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    named = {job for expr in dashboard_queries() + alert_queries() for job in JOB.findall(expr)}
    assert named
    assert named <= jobs, sorted(named - jobs)
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed"
)
def test_prometheus_accepts_the_rules_and_they_fire_as_specified() -> None:
    for command in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(
            ["promtool", *command], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_uses_the_provisioned_data_source_and_a_valid_layout() -> None:
    provisioning = ROOT / "docker" / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    provider = yaml.safe_load((provisioning / "dashboards" / "accord.yml").read_text())["providers"][0]
    assert source["url"] == "http://prometheus:9090"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]
            assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"]), panel["title"]
