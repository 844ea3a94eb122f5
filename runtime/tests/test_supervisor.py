"""The supervisor's start, rollback and stop logic, on plain local processes."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from accord.runtime.cli import start_services
from accord.runtime.errors import ServiceStartError
from accord.runtime.services import SetupStep
from accord.runtime.supervisor import STRANDED_GRACE_S, ServiceSpec, State, Supervisor

pytestmark = pytest.mark.unit


def sleeper(name: str, order: int = 0, *, exits: bool = False) -> ServiceSpec:
    code = "import sys; print('boom'); sys.exit(3)" if exits else "import time; time.sleep(600)"
    return ServiceSpec(
        name=name,
        order=order,
        command=lambda: [sys.executable, "-c", code],
        ports=(),
        ready=lambda: not exits,
    )


def test_start_records_the_process_and_stop_ends_it(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    proc = supervisor.start(sleeper("a"))
    assert supervisor.status(sleeper("a")).state is State.RUNNING
    assert supervisor.start(sleeper("a")).pid == proc.pid  # starts nothing twice
    assert supervisor.stop("a") is True
    assert not psutil.pid_exists(proc.pid) or proc.status() == psutil.STATUS_ZOMBIE
    assert supervisor.status(sleeper("a")).state is State.STOPPED


def test_a_process_that_exits_at_start_reports_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServiceStartError, match="exited with code 3") as failure:
        Supervisor(tmp_path).start(sleeper("b", exits=True))
    assert failure.value.log_tail == ["boom"]


def stubborn(tmp_path: Path, name: str = "stubborn") -> ServiceSpec:
    """A service that ignores SIGTERM, ready once it says so."""
    return ServiceSpec(
        name=name,
        order=0,
        command=lambda: [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
            "time.sleep(600)",
        ],
        ports=(),
        ready=lambda: (tmp_path / name / f"{name}.log").read_text().startswith("up"),
    )


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(tmp_path)
    proc = supervisor.start(stubborn(tmp_path))
    assert supervisor.stop("stubborn", timeout_s=0.5) is True
    assert not psutil.pid_exists(proc.pid) or proc.status() == psutil.STATUS_ZOMBIE
    assert "service did not stop in time, killing" in caplog.messages


def test_a_stranded_service_is_killed_before_its_stop_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = Supervisor(tmp_path)
    procs = [supervisor.start(stubborn(tmp_path, name)) for name in ("held", "free")]
    started = time.time()  # the clock of log records
    stopped = supervisor.stop_together(
        [replace(stubborn(tmp_path, "held"), stranded=lambda: True), stubborn(tmp_path, "free")], timeout_s=8
    )
    assert stopped == ["held", "free"]
    assert all(not psutil.pid_exists(p.pid) or p.status() == psutil.STATUS_ZOMBIE for p in procs)
    stranded = [r for r in caplog.records if r.getMessage().startswith("service cannot finish stopping")]
    timed_out = [r for r in caplog.records if r.getMessage().startswith("service did not stop in time")]
    # the stranded one goes after the grace, the other waits out its timeout
    assert [getattr(r, "service", None) for r in stranded] == ["held"]
    assert [getattr(r, "service", None) for r in timed_out] == ["free"]
    assert stranded[0].created - started < 8 - STRANDED_GRACE_S
    assert stranded[0].created - started >= STRANDED_GRACE_S


def test_a_failed_start_stops_what_the_same_call_started(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    with pytest.raises(ServiceStartError):
        start_services(supervisor, [sleeper("first", 0), sleeper("second", 1, exits=True)])
    assert supervisor.status(sleeper("first")).state is State.STOPPED


def test_setup_steps_run_after_their_service_on_every_start(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    calls: list[str] = []

    def register() -> str:
        calls.append("register")
        return "done"

    step = SetupStep("register", after="first", run=register)
    try:
        start_services(supervisor, [sleeper("first", 0), sleeper("second", 1)], [step])
        assert calls == ["register"]
        start_services(supervisor, [sleeper("first", 0), sleeper("second", 1)], [step])
        assert len(calls) == 2  # also when the service was already running
    finally:
        supervisor.stop("first")
        supervisor.stop("second")


def test_a_failed_setup_step_stops_what_the_call_started(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)

    def refuse() -> str:
        raise RuntimeError("contract refused")

    with pytest.raises(RuntimeError, match="contract refused"):
        start_services(
            supervisor, [sleeper("first", 0), sleeper("second", 1)], [SetupStep("x", "first", refuse)]
        )
    assert supervisor.status(sleeper("first")).state is State.STOPPED
    assert supervisor.status(sleeper("second")).state is State.STOPPED
