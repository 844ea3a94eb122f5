"""`/` and `/_health`: liveness for clients, readiness for `accord up` and the fixtures."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response

from accord.registry.answers import json_response
from accord.registry.dependencies import ProgressDep

router = APIRouter()


@router.get("/")
async def root() -> Response:
    return json_response({})


@router.get("/_health")
async def health(progress: ProgressDep) -> Response:
    """200 once the topic was read to the end it had at start; 503 while replaying or once the
    reader stopped (`failure` says why: a registry that no longer reads its topic cannot serve)."""
    data: dict[str, object] = {
        "ready": progress.ready,
        "records_read": progress.applied,
        "records_at_start": progress.end,
    }
    if progress.failure is not None:
        data["failure"] = progress.failure
    return Response(
        orjson.dumps(data), status_code=200 if progress.ready else 503, media_type="application/json"
    )
