"""`/subjects...` and `/contexts`: register, look up, list and delete versions of subjects."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.registry.answers import flag, json_body, json_response, page, parse_version, schema_object
from accord.registry.dependencies import RegistryDep, SettingsDep, StoreDep
from accord.registry.errors import SchemaTooLargeError
from accord.registry.operations import SchemaRequest
from accord.registry.protocol import V1

router = APIRouter()


@router.get("/contexts")
async def contexts() -> Response:
    return json_response(["."])


@router.get("/subjects")
async def subjects(request: Request, store: StoreDep) -> Response:
    prefix = request.query_params.get("subjectPrefix", "")
    names = store.subject_names(deleted=flag(request, "deleted"), deleted_only=flag(request, "deletedOnly"))
    return json_response(page(request, [name for name in names if name.startswith(prefix)]))


@router.get("/subjects/{subject:path}/versions/{version}/schema")
async def version_schema(request: Request, subject: str, version: str, store: StoreDep) -> Response:
    value = store.version(subject, parse_version(version), deleted=flag(request, "deleted"))
    return Response(value.schema.encode(), media_type=V1)


@router.get("/subjects/{subject:path}/versions/{version}/referencedby")
async def referenced_by(request: Request, subject: str, version: str, store: StoreDep) -> Response:
    value = store.version(subject, parse_version(version), deleted=True)
    return json_response(page(request, store.referenced_by(subject, value.version)))


@router.get("/subjects/{subject:path}/versions/{version}")
async def get_version(request: Request, subject: str, version: str, store: StoreDep) -> Response:
    value = store.version(subject, parse_version(version), deleted=flag(request, "deleted"))
    return json_response(schema_object(value))


@router.delete("/subjects/{subject:path}/versions/{version}")
async def delete_version(request: Request, subject: str, version: str, registry: RegistryDep) -> Response:
    number = parse_version(version)
    deleted = await run_in_threadpool(
        registry.delete_version, subject, number, permanent=flag(request, "permanent")
    )
    return json_response(deleted)


@router.get("/subjects/{subject:path}/versions")
async def list_versions(request: Request, subject: str, store: StoreDep) -> Response:
    deleted_only = flag(request, "deletedOnly")
    values = store.versions_of(subject, deleted=flag(request, "deleted") or deleted_only)
    if deleted_only:
        values = [v for v in values if v.deleted]
    return json_response(page(request, [v.version for v in values]))


@router.post("/subjects/{subject:path}/versions")
async def register(request: Request, subject: str, registry: RegistryDep, settings: SettingsDep) -> Response:
    schema_request = SchemaRequest.from_body(await json_body(request))
    size = len(schema_request.schema.encode())
    if size > settings.max_schema_bytes:
        raise SchemaTooLargeError(size, settings.max_schema_bytes)
    value = await run_in_threadpool(registry.register, subject, schema_request, force=flag(request, "force"))
    return json_response({"id": value.id, "version": value.version})


@router.post("/subjects/{subject:path}")
async def lookup(request: Request, subject: str, registry: RegistryDep) -> Response:
    schema_request = SchemaRequest.from_body(await json_body(request), allow_empty=True)
    value = registry.lookup(subject, schema_request, deleted=flag(request, "deleted"))
    return json_response(schema_object(value))


@router.delete("/subjects/{subject:path}")
async def delete_subject(request: Request, subject: str, registry: RegistryDep) -> Response:
    versions = await run_in_threadpool(registry.delete_subject, subject, permanent=flag(request, "permanent"))
    return json_response(versions)
