"""The stream service finds Gold's health job through its entry point and serves its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from accord.runtime.waiting import wait_until
from accord.streaming.jobs import start_jobs
from accord.streaming.progress import EXPERIMENT_HEALTH, ProgressFile
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit


def test_the_stream_runs_the_experiment_health_job_of_gold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_EXPERIMENT_HEALTH_INTERVAL_S", "0.2")
    progress = ProgressFile(tmp_path / "state")
    registry = CollectorRegistry()
    runner = start_jobs(StreamingSettings(lake_uri=str(tmp_path / "lake")), progress, registry)
    try:
        assert [job.name for job in runner.jobs] == ["experiment_health"]
        # a lake without Silver yet: every configured experiment, no user
        health = wait_until(
            lambda: progress.read().get(EXPERIMENT_HEALTH), timeout_s=30, describe="a health run recorded"
        )
        assert health is not None
        assert health["experiments"]["new_checkout"]["users"] == {}
        assert health["experiments"]["new_checkout"]["srm_alarm"] is False
    finally:
        runner.stop()
    text = generate_latest(registry).decode()
    assert 'accord_experiment_srm_alarm{experiment="new_checkout"} 0.0' in text
    assert "accord_experiment_health_last_run_timestamp_seconds " in text


def test_an_interval_of_zero_disables_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_EXPERIMENT_HEALTH_INTERVAL_S", "0")
    runner = start_jobs(
        StreamingSettings(lake_uri=str(tmp_path)), ProgressFile(tmp_path), CollectorRegistry()
    )
    assert runner.jobs == []
    runner.stop()
