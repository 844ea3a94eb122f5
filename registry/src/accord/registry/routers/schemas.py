"""`/schemas...`: schemas by id (the hot path of every consumer), listings, types."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.routing import Route

from accord.registry.answers import flag, json_response, page, parse_id, schema_object
from accord.registry.dependencies import StoreDep, app_state
from accord.registry.errors import UnknownSchemaError
from accord.registry.protocol import V1
from accord.registry.records import SchemaValue

router = APIRouter()


async def schema_by_id(request: Request) -> Response:
    """`GET /schemas/ids/{id}`: the body rendered when the schema was first read."""
    body = app_state(request).registry.store.id_bodies.get(parse_id(request.path_params["schema_id"]))
    if body is None:
        raise UnknownSchemaError(int(request.path_params["schema_id"]))
    return Response(body, media_type=V1)


# a plain Starlette route, put first in the app's routing table: no dependency resolution or
# validation per request on the path every consumer calls for every new id
schema_by_id_route = Route("/schemas/ids/{schema_id}", schema_by_id, methods=["GET"])


@router.get("/schemas")
async def schemas(request: Request, store: StoreDep) -> Response:
    prefix = request.query_params.get("subjectPrefix", "")
    deleted, latest_only = flag(request, "deleted"), flag(request, "latestOnly")
    found = [v for v in store.all_versions() if v.subject.startswith(prefix) and (deleted or not v.deleted)]
    if latest_only:
        latest: dict[str, SchemaValue] = {}
        for value in found:
            latest[value.subject] = value
        found = list(latest.values())
    return json_response(page(request, [schema_object(v) for v in found]))


@router.get("/schemas/types")
async def schema_types() -> Response:
    return json_response(["AVRO"])


@router.get("/schemas/ids/{schema_id}/schema")
async def schema_text_by_id(schema_id: str, store: StoreDep) -> Response:
    return Response(store.schema_by_id(parse_id(schema_id)).schema.encode(), media_type=V1)


@router.get("/schemas/ids/{schema_id}/subjects")
async def subjects_by_id(request: Request, schema_id: str, store: StoreDep) -> Response:
    number = parse_id(schema_id)
    store.schema_by_id(number)
    users = store.users(number, deleted=flag(request, "deleted"))
    return json_response(page(request, sorted({v.subject for v in users})))


@router.get("/schemas/ids/{schema_id}/versions")
async def versions_by_id(request: Request, schema_id: str, store: StoreDep) -> Response:
    number = parse_id(schema_id)
    store.schema_by_id(number)
    users = store.users(number, deleted=flag(request, "deleted"))
    return json_response(page(request, [{"subject": v.subject, "version": v.version} for v in users]))
