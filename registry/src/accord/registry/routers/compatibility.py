"""`/compatibility/...`: would a schema be accepted, and if not, why."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.registry.answers import flag, json_body, json_response, parse_version
from accord.registry.dependencies import RegistryDep
from accord.registry.operations import SchemaRequest
from accord.registry_client.compatibility import Incompatibility

router = APIRouter()


def compatibility_answer(request: Request, problems: list[Incompatibility]) -> Response:
    """`{"is_compatible"}`, with `messages` when `verbose=true` or when incompatible."""
    data: dict[str, Any] = {"is_compatible": not problems}
    if problems or flag(request, "verbose"):
        data["messages"] = [problem.message for problem in problems]
    return json_response(data)


@router.post("/compatibility/subjects/{subject:path}/versions/{version}")
async def compatibility_with_version(
    request: Request, subject: str, version: str, registry: RegistryDep
) -> Response:
    number = parse_version(version)
    schema_request = SchemaRequest.from_body(await json_body(request))
    problems = await run_in_threadpool(
        registry.test_compatibility, subject, schema_request, number, all_versions=False
    )
    return compatibility_answer(request, problems)


@router.post("/compatibility/subjects/{subject:path}/versions")
async def compatibility_with_all(request: Request, subject: str, registry: RegistryDep) -> Response:
    schema_request = SchemaRequest.from_body(await json_body(request))
    problems = await run_in_threadpool(
        registry.test_compatibility, subject, schema_request, None, all_versions=True
    )
    return compatibility_answer(request, problems)
