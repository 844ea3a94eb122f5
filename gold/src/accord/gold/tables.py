"""Where the Gold tables live in the lake."""

from __future__ import annotations

from accord.streaming.lake import Lake


def experiment_results_path(lake: Lake) -> str:
    """One row per experiment, variant and metric."""
    return f"{lake.root}/gold/experiment_results"


def daily_events_path(lake: Lake) -> str:
    """Events and distinct users per day and event type."""
    return f"{lake.root}/gold/daily_events"


def daily_active_users_path(lake: Lake) -> str:
    """Distinct users per day, all event types together."""
    return f"{lake.root}/gold/daily_active_users"
