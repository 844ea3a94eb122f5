"""`simulate`: realistic product traffic through the SDK, with faults, and the truth file."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from accord.demo.errors import SimulationError
from accord.demo.simulator.traffic import FaultRates, Misbucketing, Planned, UserPlanner
from accord.demo.simulator.truth import Tally, Truth, write_truth
from accord.gold.experiments_config import ExperimentConfig
from accord.sdk.client import Client
from accord.sdk.codec import codec_for
from accord.sdk.config import ClientConfig
from accord.sdk.errors import ConfigError
from accord.sdk.events import PageView
from accord.sdk.rejections import RETRIES_EXHAUSTED, RejectedEvent

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, int], None]
"""Called as users are done: (users done, users in total, events sent so far)."""


@dataclass(frozen=True)
class Simulation:
    """What to simulate and where to send it.

    Attributes:
        gateway_url: the gateway to send to.
        write_key: a write key the gateway accepts for every `events-*` subject.
        truth_path: where to write the truth file (the id files go next to it).
        users: how many users to simulate.
        seed: seeds every random choice (same seed, same traffic).
        experiments: the experiments users are exposed to.
        baseline_rate: the control variant's true conversion rate.
        true_lift: the other variants' true relative lift (0.1 = +10%).
        faults: the share of events given each fault.
        rate: events per second to pace sending at; 0 sends as fast as the gateway takes them.
        misbucketing: a bucketing fault injected mid-run (exposures lost), or None.
        client: the SDK settings (block when full, so that nothing is dropped).
    """

    gateway_url: str
    write_key: str
    truth_path: Path
    users: int = 1000
    seed: int = 7
    experiments: list[ExperimentConfig] = field(default_factory=list)
    baseline_rate: float = 0.1
    true_lift: float = 0.2
    faults: FaultRates = field(default_factory=FaultRates)
    rate: float = 0.0
    misbucketing: Misbucketing | None = None
    client: ClientConfig = field(
        default_factory=lambda: ClientConfig(block_timeout_s=120.0, close_timeout_s=300.0)
    )

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ConfigError("users", f"must be at least 1, got {self.users}")
        if not 0 <= self.baseline_rate <= 1:
            raise ConfigError("baseline_rate", f"must be within [0, 1], got {self.baseline_rate}")
        if self.true_lift <= -1:
            raise ConfigError("true_lift", f"must be above -1 (a relative change), got {self.true_lift}")
        for name in ("duplicate", "late", "out_of_order", "malformed"):
            value = getattr(self.faults, name)
            if not 0 <= value <= 1:
                raise ConfigError(f"faults.{name}", f"must be a share within [0, 1], got {value}")
        if self.rate < 0:
            raise ConfigError("rate", f"must be >= 0 events per second, got {self.rate}")


def simulate(simulation: Simulation, progress: Progress | None = None) -> Truth:
    """Send the simulated traffic through a `Client`, then write and return the truth.

    Raises:
        SimulationError: some events were neither acknowledged nor refused by the gateway
            (it stayed down past the client's timeouts), or it accepted a malformed event;
            no truth file is written, since it could not be trusted.
    """
    _check_gateway(simulation.gateway_url)
    rejected: dict[str, str] = {}
    unanswered: set[str] = set()
    lock = threading.Lock()

    def on_rejected(rejection: RejectedEvent) -> None:
        with lock:
            # given up after retries: the gateway may have taken it, so it is no refusal
            if rejection.code == RETRIES_EXHAUSTED:
                unanswered.add(rejection.event_id)
            else:
                rejected[rejection.event_id] = rejection.code

    now = datetime.now(UTC)
    planner = UserPlanner(
        simulation.seed,
        simulation.experiments,
        simulation.baseline_rate,
        simulation.true_lift,
        simulation.faults,
        now,
        misbucketing=simulation.misbucketing,
    )
    tally = Tally()
    sent = 0
    started = time.monotonic()
    client = Client(simulation.gateway_url, simulation.write_key, simulation.client, on_rejected=on_rejected)
    try:
        for index in range(simulation.users):
            traffic = planner.user(index)
            tally.exposures += traffic.exposures
            tally.conversions += traffic.conversions
            for planned in traffic.sends:
                _send(client, planned, tally)
                sent += 1
                if simulation.rate:
                    time.sleep(max(0.0, started + sent / simulation.rate - time.monotonic()))
            if progress is not None:
                progress(index + 1, simulation.users, sent)
    finally:
        client.close()
    counters = client.counters
    logger.info("simulation sent", extra={"events": sent, **vars(counters)})
    if counters.dropped or unanswered:
        raise SimulationError(
            f"{counters.dropped + len(unanswered)} of {sent} events were never acknowledged by the gateway "
            f"at {simulation.gateway_url} (is it up?); no truth file was written"
        )
    accepted_malformed = [i for i in tally.malformed_ids if i not in rejected]
    if accepted_malformed:
        raise SimulationError(
            f"the gateway accepted {len(accepted_malformed)} malformed events "
            f"(e.g. {accepted_malformed[0]}); no truth file was written"
        )
    refused_valid = sum(1 for i in tally.valid_ids if i in rejected)
    if refused_valid:
        logger.warning(
            "the gateway refused valid events; the truth leaves them out",
            extra={"events": refused_valid},
        )
    return write_truth(
        simulation.truth_path,
        seed=simulation.seed,
        users=simulation.users,
        gateway_url=simulation.gateway_url,
        experiments=simulation.experiments,
        baseline_rate=simulation.baseline_rate,
        true_lift=simulation.true_lift,
        tally=tally,
        rejected=rejected,
    )


def _check_gateway(url: str) -> None:
    """Fail at once when the gateway is not there, rather than after the client's timeouts."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/readyz", timeout=10)
    except httpx.HTTPError as exc:
        raise SimulationError(f"the gateway at {url} does not answer ({exc}); is it up?") from exc
    if response.status_code != 200:
        raise SimulationError(f"the gateway at {url} is not ready (HTTP {response.status_code} on /readyz)")


def _send(client: Client, planned: Planned, tally: Tally) -> None:
    event_id = str(planned.event.envelope.event_id)
    if planned.malformed:
        body = codec_for(planned.event).encode(planned.event.to_avro())
        # Cut inside the last fields: the gateway cannot decode it, but the id is ours to check.
        client.track_encoded(PageView, body[: len(body) // 2], event_id)
        tally.malformed_ids.append(event_id)
        return
    client.track(planned.event)
    if planned.duplicate:
        tally.duplicates += 1
        return
    tally.valid_ids[event_id] = planned.kind
    if planned.late:
        tally.late_ids.append(event_id)
    if planned.out_of_order:
        tally.out_of_order_ids.append(event_id)
