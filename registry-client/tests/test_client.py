"""`RegistryClient`, the cached helper other components use, against the real registry."""

from __future__ import annotations

import io
import json
import uuid

import fastavro
import httpx
import pytest

from accord.registry.testing import RegistryHandle
from accord.registry_client import (
    IncompatibleSchemaError,
    Reference,
    RegistryClient,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaRejectedError,
    SubjectNotFoundError,
)
from accord.registry_client.compatibility import CompatibilityLevel
from accord.runtime.ports import free_port

pytestmark = pytest.mark.integration


def named(name: str, namespace: str, *fields: tuple[str, object]) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": namespace,
            "fields": [{"name": n, "type": t} for n, t in fields],
        }
    )


@pytest.fixture
def client(registry_server: RegistryHandle) -> RegistryClient:
    return RegistryClient(registry_server.url, latest_ttl_s=60)


def test_register_lookup_version_and_listings(client: RegistryClient, subject: str) -> None:
    namespace = f"accord.c{uuid.uuid4().hex[:8]}"
    schema = named("Signup", namespace, ("user", "string"))
    created = client.register(subject, schema)
    assert (created.subject, created.version) == (subject, 1)
    assert client.register(subject, schema).id == created.id
    found = client.lookup(subject, schema)
    assert found is not None
    assert (found.id, found.version) == (created.id, 1)
    assert client.lookup(subject, named("Other", namespace, ("x", "int"))) is None
    assert client.lookup(f"{subject}-missing", schema) is None
    assert client.version(subject, 1).id == created.id
    assert client.versions(subject) == [1]
    assert subject in client.subjects()
    assert client.schema_by_id(created.id).schema == found.schema
    assert client.compatibility_level(subject) is CompatibilityLevel.BACKWARD


def test_latest_is_cached_for_its_ttl(registry_server: RegistryHandle, subject: str) -> None:
    namespace = f"accord.c{uuid.uuid4().hex[:8]}"
    cached = RegistryClient(registry_server.url, latest_ttl_s=60)
    fresh = RegistryClient(registry_server.url, latest_ttl_s=1)
    cached.register(subject, named("Visit", namespace, ("page", "string")))
    assert cached.latest(subject).version == 1
    v2 = named("Visit", namespace, ("page", "string"), ("ref", ["null", "string"]))
    v2_data = json.loads(v2)
    v2_data["fields"][1]["default"] = None
    fresh.register(subject, json.dumps(v2_data))
    assert cached.latest(subject).version == 1
    assert fresh.latest(subject).version == 2


def test_errors_are_specific(client: RegistryClient, subject: str) -> None:
    namespace = f"accord.c{uuid.uuid4().hex[:8]}"
    with pytest.raises(SubjectNotFoundError):
        client.latest(subject)
    with pytest.raises(SchemaNotFoundError):
        client.schema_by_id(999_999_999)
    client.register(subject, named("Pay", namespace, ("amount", "long")))
    with pytest.raises(SubjectNotFoundError):
        client.version(subject, 5)
    with pytest.raises(IncompatibleSchemaError) as refused:
        client.register(subject, named("Pay", namespace, ("amount", "int")))
    assert refused.value.error_code == 409
    assert any("amount" in message for message in refused.value.messages)
    with pytest.raises(SchemaRejectedError, match="Invalid default"):
        client.register(
            subject,
            json.dumps(
                {"type": "record", "name": "Bad", "fields": [{"name": "n", "type": "int", "default": "x"}]}
            ),
        )
    offline = RegistryClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RegistryUnavailableError):
        offline.subjects()


def test_resolved_schema_inlines_references_for_fastavro(client: RegistryClient) -> None:
    suffix = uuid.uuid4().hex[:8]
    context = json.dumps(
        {
            "type": "record",
            "name": f"Context{suffix}",
            "namespace": "accord.common",
            "fields": [{"name": "ip", "type": "string"}],
        }
    )
    envelope = json.dumps(
        {
            "type": "record",
            "name": f"Envelope{suffix}",
            "namespace": "accord.common",
            "fields": [
                {"name": "event_id", "type": "string"},
                {"name": "context", "type": f"accord.common.Context{suffix}"},
                {"name": "previous", "type": ["null", f"accord.common.Context{suffix}"], "default": None},
            ],
        }
    )
    context_ref = Reference(f"accord.common.Context{suffix}", f"accord.common.Context{suffix}", 1)
    client.register(context_ref.subject, context)
    envelope_ref = Reference(f"accord.common.Envelope{suffix}", f"accord.common.Envelope{suffix}", 1)
    client.register(envelope_ref.subject, envelope, [context_ref])
    event = json.dumps(
        {
            "type": "record",
            "name": "PageView",
            "namespace": "accord.events",
            "fields": [{"name": "envelope", "type": envelope_ref.name}, {"name": "path", "type": "string"}],
        }
    )
    registered = client.register(f"events-accord.events.PageView{suffix}", event, [envelope_ref])
    assert client.schema_by_id(registered.id).references == (envelope_ref,)
    resolved = client.resolved_schema(registered.id)
    parsed = fastavro.parse_schema(resolved)
    datum = {
        "envelope": {"event_id": "e-1", "context": {"ip": "10.0.0.1"}, "previous": {"ip": "10.0.0.2"}},
        "path": "/home",
    }
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    buffer.seek(0)
    assert fastavro.schemaless_reader(buffer, parsed) == datum
    assert client.resolved_schema(registered.id) is resolved


def test_client_sends_basic_auth(registry_factory: object) -> None:
    users = {"svc": {"password": "pw", "write": True}}
    registry = registry_factory(f"_schemas-client-{uuid.uuid4().hex[:8]}", users=users)  # type: ignore[operator]
    allowed = RegistryClient(registry.url, auth=("svc", "pw"))
    allowed.register("auth-value", named("A", "accord.auth", ("x", "int")))
    assert allowed.subjects() == ["auth-value"]
    with pytest.raises(RegistryUnavailableError):
        RegistryClient(registry.url).subjects()
    assert httpx.get(f"{registry.url}/subjects", auth=("svc", "pw")).json() == ["auth-value"]


def test_subjects_for_id_lists_every_subject_of_a_shared_schema(client: RegistryClient, subject: str) -> None:
    schema = named("Shared", f"accord.c{uuid.uuid4().hex[:8]}", ("n", "long"))
    first = client.register(subject, schema)
    assert client.subjects_for_id(first.id) == [subject]
    client.register(f"{subject}-copy", schema)
    assert sorted(client.subjects_for_id(first.id)) == sorted([subject, f"{subject}-copy"])
    with pytest.raises(SchemaNotFoundError):
        client.subjects_for_id(999_999_999)
