"""`GET /v1/stats` (the counts the ledger reconciles) and `GET /metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from accord.gateway import api_models
from accord.gateway.routes.dependencies import GatewayDep, KeysDep
from accord.gateway.routes.responses import WRITE_KEY_DOC, answered, json_response

router = APIRouter()


@router.get(
    "/v1/stats",
    summary="Events per hour of receipt",
    response_model=api_models.Stats,
    responses={401: WRITE_KEY_DOC},
)
async def stats(request: Request, gateway: GatewayDep, keys: KeysDep) -> Response:
    """Accepted, duplicate and rejected events per hour of receipt since the gateway started.

    With several gateway processes on the port, the sums over all of them.

    Any valid write key may read them; without one the answer is 401.
    """

    async def handle() -> Response:
        keys.authenticate(request.headers.get("authorization"))
        return json_response(200, {"hours": gateway.counts.snapshot()})

    return await answered("stats", gateway, handle)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}},
)
async def metrics(gateway: GatewayDep) -> Response:
    """Requests, events by outcome and reason, produce latency, requests in flight.

    With several gateway processes on the port, the sums over all of them.
    """
    return Response(gateway.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
