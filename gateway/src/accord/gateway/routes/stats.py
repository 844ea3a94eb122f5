"""`GET /v1/stats` (the counts the ledger reconciles) and `GET /metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from accord.gateway import api_models
from accord.gateway.routes.dependencies import GatewayDep
from accord.gateway.routes.responses import json_response

router = APIRouter()


@router.get("/v1/stats", summary="Events per hour of receipt", response_model=api_models.Stats)
async def stats(gateway: GatewayDep) -> Response:
    """Accepted, duplicate and rejected events per hour of receipt since the gateway started."""
    return json_response(200, {"hours": gateway.counts.snapshot()})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}},
)
async def metrics(gateway: GatewayDep) -> Response:
    """Requests, events by outcome and reason, produce latency, requests in flight."""
    return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)
