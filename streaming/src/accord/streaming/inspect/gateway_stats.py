"""The gateway's own counts per hour of receipt, read from its `GET /v1/stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from accord.streaming.errors import InspectError


class GatewayStatsError(InspectError):
    """The gateway's counts could not be read."""


@dataclass(frozen=True)
class GatewayHour:
    """What the gateway did with the events it received in one hour."""

    accepted: int
    duplicates: int
    rejected: int


def fetch_gateway_stats(
    gateway_url: str, write_key: str, timeout_s: float = 10.0
) -> dict[datetime, GatewayHour]:
    """Counts per hour (naive UTC hour start) since the gateway process started.

    The gateway answers only a valid write key (any of them).

    Raises:
        GatewayStatsError: the gateway did not answer, or answered something else than its stats.
    """
    url = f"{gateway_url.rstrip('/')}/v1/stats"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {write_key}"}, timeout=timeout_s)
        response.raise_for_status()
        hours = response.json()["hours"]
        return {
            datetime.fromisoformat(entry["hour"]).replace(tzinfo=None): GatewayHour(
                accepted=int(entry["accepted"]),
                duplicates=int(entry["duplicates"]),
                rejected=int(entry["rejected"]),
            )
            for entry in hours
        }
    except httpx.HTTPError as exc:
        raise GatewayStatsError(f"cannot read the gateway's counts from {url}: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise GatewayStatsError(f"unexpected answer from {url}: {exc!r}") from exc
