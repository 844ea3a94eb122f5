"""`/config...` and `/mode...`: compatibility levels and modes, global and per subject."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.registry.answers import flag, json_body, json_response
from accord.registry.dependencies import RegistryDep, StoreDep
from accord.registry.errors import SubjectConfigNotFoundError, SubjectModeNotFoundError
from accord.registry.operations import Registry, validate_level
from accord.registry_client.compatibility import CompatibilityLevel

router = APIRouter()


def config_answer(level: CompatibilityLevel) -> Response:
    """A compatibility level as `GET /config` answers it."""
    return json_response({"compatibilityLevel": level.value})


async def put_config(request: Request, subject: str | None, registry: Registry) -> Response:
    """Set the global (`subject` None) or a subject's level from the request body."""
    body = await json_body(request)
    level = validate_level(body.get("compatibility") or body.get("compatibilityLevel"))
    await run_in_threadpool(registry.set_config, subject, level)
    return json_response({"compatibility": level.value})


async def put_mode(request: Request, subject: str | None, registry: Registry) -> Response:
    """Set the global (`subject` None) or a subject's mode from the request body."""
    body = await json_body(request)
    mode = await run_in_threadpool(registry.set_mode, subject, body.get("mode"), force=flag(request, "force"))
    return json_response({"mode": mode})


@router.get("/config")
async def get_global_config(store: StoreDep) -> Response:
    return config_answer(store.compatibility(None))


@router.get("/config/{subject:path}")
async def get_config(request: Request, subject: str, store: StoreDep) -> Response:
    if subject not in store.configs and not flag(request, "defaultToGlobal"):
        raise SubjectConfigNotFoundError(subject)
    return config_answer(store.compatibility(subject))


@router.put("/config")
async def put_global_config(request: Request, registry: RegistryDep) -> Response:
    return await put_config(request, None, registry)


@router.put("/config/{subject:path}")
async def put_subject_config(request: Request, subject: str, registry: RegistryDep) -> Response:
    return await put_config(request, subject, registry)


@router.delete("/config")
async def delete_global_config(registry: RegistryDep) -> Response:
    return config_answer(await run_in_threadpool(registry.delete_config, None))


@router.delete("/config/{subject:path}")
async def delete_subject_config(subject: str, registry: RegistryDep) -> Response:
    return config_answer(await run_in_threadpool(registry.delete_config, subject))


@router.get("/mode")
async def get_global_mode(store: StoreDep) -> Response:
    return json_response({"mode": store.mode(None)})


@router.get("/mode/{subject:path}")
async def get_mode(request: Request, subject: str, store: StoreDep) -> Response:
    if subject not in store.modes and not flag(request, "defaultToGlobal"):
        raise SubjectModeNotFoundError(subject)
    return json_response({"mode": store.mode(subject)})


@router.put("/mode")
async def put_global_mode(request: Request, registry: RegistryDep) -> Response:
    return await put_mode(request, None, registry)


@router.put("/mode/{subject:path}")
async def put_subject_mode(request: Request, subject: str, registry: RegistryDep) -> Response:
    return await put_mode(request, subject, registry)


@router.delete("/mode")
async def delete_global_mode(registry: RegistryDep) -> Response:
    return json_response({"mode": await run_in_threadpool(registry.delete_mode, None)})


@router.delete("/mode/{subject:path}")
async def delete_subject_mode(subject: str, registry: RegistryDep) -> Response:
    return json_response({"mode": await run_in_threadpool(registry.delete_mode, subject)})
