"""`GET /healthz` (liveness) and `GET /readyz` (Kafka and the registry answer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from accord.gateway import api_models
from accord.gateway.routes.dependencies import GatewayDep
from accord.gateway.routes.responses import json_response

router = APIRouter()


@router.get("/healthz", summary="Liveness", response_model=api_models.Health)
async def healthz() -> Response:
    """The process serves requests."""
    return json_response(200, {"status": "ok", "checks": {}})


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=api_models.Health,
    responses={503: {"model": api_models.Health, "description": "Kafka or the registry unreachable"}},
)
async def readyz(gateway: GatewayDep) -> Response:
    """Ready when both Kafka and the registry answer."""
    kafka, registry = await asyncio.gather(
        asyncio.to_thread(gateway.publisher.reachable), gateway.catalog.ping()
    )
    ready = kafka and registry
    return json_response(
        200 if ready else 503,
        {"status": "ready" if ready else "unavailable", "checks": {"kafka": kafka, "registry": registry}},
    )
