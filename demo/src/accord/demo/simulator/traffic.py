"""What one simulated user does: sessions of product events, experiment exposures, conversions,
and the faults injected into that stream. Everything is drawn from one seeded generator, so a
seed always plans the same traffic (event ids aside, which are new UUIDv7s)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from accord.demo.simulator.assignment import assign_variant
from accord.gold.experiments_config import ExperimentConfig
from accord.sdk.events import (
    Context,
    Conversion,
    Envelope,
    ExperimentExposure,
    FeatureUsed,
    PageView,
    Purchase,
    Signup,
)
from accord.sdk.record import Event

KIND_OF: dict[type, str] = {
    PageView: "page_view",
    FeatureUsed: "feature_used",
    ExperimentExposure: "experiment_exposure",
    Signup: "signup",
    Purchase: "purchase",
    Conversion: "conversion",
}
EVENT_KINDS = tuple(KIND_OF.values())
_PLAIN = (PageView, FeatureUsed)  # events that faults may move in time without changing any result
_PAGES = ("/", "/pricing", "/features", "/docs", "/blog", "/checkout", "/account", "/search")
_FEATURES = ("export_csv", "dark_mode", "share_link", "filters", "bulk_edit", "invite_team")
_PLATFORMS = (Context.Platform.WEB, Context.Platform.IOS, Context.Platform.ANDROID)
_LOCALES = ("en-US", "fr-FR", "de-DE", "es-ES", "ja-JP")
SIGNUP_RATE = 0.2
FEATURE_RATE = 0.4


@dataclass(frozen=True)
class FaultRates:
    """Share of events given each fault; 0 disables it."""

    duplicate: float = 0.02
    late: float = 0.02
    out_of_order: float = 0.02
    malformed: float = 0.01


@dataclass(frozen=True)
class Misbucketing:
    """A bucketing fault from user number `from_user` on: the exposures of the users of `variant`
    on `platform` are lost, as when a client release stops logging them. Their other events are
    still sent; the truth counts only the exposures sent."""

    platform: str
    variant: str
    from_user: int

    def drops(self, index: int, platform: str, variant: str) -> bool:
        """True when the exposure of user number `index` on `platform` to `variant` is lost."""
        return index >= self.from_user and platform == self.platform and variant == self.variant


@dataclass
class Planned:
    """One send: the event and the faults it carries."""

    event: Event
    late: bool = False
    out_of_order: bool = False
    duplicate: bool = False
    malformed: bool = False

    @property
    def kind(self) -> str:
        """The event type in snake_case, e.g. `page_view`."""
        return KIND_OF[type(self.event)]


@dataclass(frozen=True)
class ExposureFact:
    """A user's exposure to an experiment, as sent."""

    experiment_id: str
    variant: str
    user_id: str
    time: datetime
    event_id: str


@dataclass(frozen=True)
class ConversionFact:
    """A conversion-bearing event, as sent: its type and (for `Conversion`) its name."""

    user_id: str
    kind: str
    name: str | None
    time: datetime
    event_id: str


@dataclass
class UserTraffic:
    """Everything one user sends, in sending order, with the facts the truth is built from."""

    sends: list[Planned] = field(default_factory=list)
    exposures: list[ExposureFact] = field(default_factory=list)
    conversions: list[ConversionFact] = field(default_factory=list)


def conversion_rate(
    experiment: ExperimentConfig, variant: str, baseline_rate: float, true_lift: float
) -> float:
    """The true conversion rate of `variant`: the baseline for control, lifted for the others."""
    rate = baseline_rate if variant == experiment.control else baseline_rate * (1 + true_lift)
    return min(1.0, max(0.0, rate))


class UserPlanner:
    """Plans users one at a time from a seeded generator."""

    def __init__(
        self,
        seed: int,
        experiments: list[ExperimentConfig],
        baseline_rate: float,
        true_lift: float,
        faults: FaultRates,
        now: datetime,
        max_sessions: int = 3,
        misbucketing: Misbucketing | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
        self.seed = seed
        self.experiments = experiments
        self.baseline_rate = baseline_rate
        self.true_lift = true_lift
        self.faults = faults
        self.now = now
        self.max_sessions = max_sessions
        self.misbucketing = misbucketing

    def user_id(self, index: int) -> str:
        """The id of user number `index`."""
        return f"sim-{self.seed}-{index:07d}"

    def user(self, index: int) -> UserTraffic:
        """The traffic of user number `index`."""
        rng = self.rng
        user_id = self.user_id(index)
        anonymous_id = f"anon-{rng.getrandbits(64):016x}"
        context = Context(
            app_name="accord-shop",
            app_version="3.2.0",
            platform=rng.choice(_PLATFORMS),
            locale=rng.choice(_LOCALES),
        )
        traffic = UserTraffic()
        clock = self.now  # times are shifted into the past once the user's whole timeline is known

        def envelope(session_id: str) -> Envelope:
            nonlocal clock
            clock += timedelta(seconds=rng.uniform(1, 15))
            return Envelope(
                event_time=clock,
                user_id=user_id,
                anonymous_id=anonymous_id,
                session_id=session_id,
                context=context,
            )

        for session in range(rng.randint(1, self.max_sessions)):
            session_id = f"{user_id}-s{session}"
            if session == 0:
                if rng.random() < SIGNUP_RATE:
                    traffic.sends.append(
                        Planned(Signup(envelope=envelope(session_id), method=Signup.SignupMethod.EMAIL))
                    )
                self._experiments(traffic, index, session_id, envelope)
            for _ in range(rng.randint(2, 6)):
                path = rng.choice(_PAGES)
                traffic.sends.append(
                    Planned(
                        PageView(envelope=envelope(session_id), url=f"https://shop.example{path}", path=path)
                    )
                )
                if rng.random() < FEATURE_RATE:
                    event = FeatureUsed(
                        envelope=envelope(session_id), feature=rng.choice(_FEATURES), screen=path
                    )
                    traffic.sends.append(Planned(event))
            clock += timedelta(seconds=rng.uniform(60, 300))
        self._end_recently(traffic)
        self._inject_faults(traffic)
        return traffic

    def _experiments(
        self, traffic: UserTraffic, index: int, session_id: str, envelope: Callable[[str], Envelope]
    ) -> None:
        user_id = self.user_id(index)
        converting: list[str] = []
        for experiment in self.experiments:
            variant = assign_variant(experiment, user_id)
            exposure = ExperimentExposure(
                envelope=envelope(session_id),
                experiment_id=experiment.experiment_id,
                variant=variant,
                assignment_unit=ExperimentExposure.AssignmentUnit.USER,
            )
            platform = exposure.envelope.context.platform if exposure.envelope.context else None
            lost = self.misbucketing is not None and self.misbucketing.drops(index, str(platform), variant)
            if not lost:
                traffic.sends.append(Planned(exposure))
                traffic.exposures.append(
                    ExposureFact(
                        experiment.experiment_id,
                        variant,
                        user_id,
                        exposure.envelope.event_time,
                        str(exposure.envelope.event_id),
                    )
                )
            rate = conversion_rate(experiment, variant, self.baseline_rate, self.true_lift)
            if self.rng.random() < rate and experiment.conversion_event not in converting:
                converting.append(experiment.conversion_event)
        if not self.experiments and self.rng.random() < self.baseline_rate:
            converting.append("purchase")
        for name in converting:
            event = self._conversion(name, envelope(session_id), user_id)
            traffic.sends.append(Planned(event))
            kind = KIND_OF[type(event)]
            traffic.conversions.append(
                ConversionFact(
                    user_id,
                    kind,
                    event.name if isinstance(event, Conversion) else None,
                    event.envelope.event_time,
                    str(event.envelope.event_id),
                )
            )

    def _conversion(self, name: str, envelope: Envelope, user_id: str) -> Event:
        rng = self.rng
        if name == "purchase":
            cents = rng.randint(500, 20_000)
            return Purchase(
                envelope=envelope,
                order_id=f"{user_id}-{rng.getrandbits(32):08x}",
                amount=Decimal(cents) / 100,
                currency="EUR",
                items=[
                    Purchase.LineItem(sku=f"sku-{cents % 97}", quantity=1, unit_price=Decimal(cents) / 100)
                ],
            )
        if name == "signup":
            return Signup(envelope=envelope, method=Signup.SignupMethod.EMAIL)
        if name == "page_view":
            return PageView(
                envelope=envelope, url="https://shop.example/checkout/done", path="/checkout/done"
            )
        if name == "feature_used":
            return FeatureUsed(envelope=envelope, feature="checkout")
        return Conversion(envelope=envelope, name=name)

    def _end_recently(self, traffic: UserTraffic) -> None:
        """Shift the user's timeline so that it ends between 1 and 30 minutes before now."""
        last = max(p.event.envelope.event_time for p in traffic.sends)
        shift = self.now - timedelta(seconds=self.rng.uniform(60, 1800)) - last
        for planned in traffic.sends:
            planned.event.envelope.event_time = _to_millis(planned.event.envelope.event_time + shift)
        traffic.exposures = [replace(f, time=_to_millis(f.time + shift)) for f in traffic.exposures]
        traffic.conversions = [replace(f, time=_to_millis(f.time + shift)) for f in traffic.conversions]

    def _inject_faults(self, traffic: UserTraffic) -> None:
        rng, rates, sends = self.rng, self.faults, traffic.sends
        for planned in sends:
            if isinstance(planned.event, _PLAIN) and rng.random() < rates.late:
                planned.late = True
                age = timedelta(hours=rng.uniform(2, 72))
                planned.event.envelope.event_time = _to_millis(self.now - age)
        index = 0
        while index < len(sends) - 1:
            first, second = sends[index], sends[index + 1]
            movable = all(isinstance(p.event, _PLAIN) and not p.late for p in (first, second))
            if movable and rng.random() < rates.out_of_order:
                sends[index], sends[index + 1] = second, first
                first.out_of_order = True  # sent after an event that happened later
                index += 2
            else:
                index += 1
        extras: list[Planned] = []
        for planned in sends:
            if rng.random() < rates.duplicate:
                extras.append(Planned(planned.event, duplicate=True))
            if rng.random() < rates.malformed:
                envelope = Envelope(event_time=self.now, user_id=planned.event.envelope.user_id)
                broken = PageView(envelope=envelope, url="https://shop.example/")
                extras.append(Planned(broken, malformed=True))
        for extra in extras:
            if extra.malformed:
                sends.insert(rng.randint(0, len(sends)), extra)
            else:
                sends.append(extra)  # a resend comes after the first send


def _to_millis(moment: datetime) -> datetime:
    """`moment` truncated to what timestamp-millis keeps, so the truth matches the lake exactly."""
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
