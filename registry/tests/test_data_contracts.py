"""`metadata` and `ruleSet` on schemas, as Confluent stores and serves them, through its client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    Rule,
    RuleKind,
    RuleMode,
    RuleSet,
    Schema,
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry.common.schema_registry_client import MetadataProperties, MetadataTags

from accord.registry.testing import RegistryHandle

pytestmark = pytest.mark.integration

PURCHASE = json.dumps(
    {
        "type": "record",
        "name": "Purchase",
        "namespace": "accord.shop",
        "fields": [{"name": "amount", "type": "double"}, {"name": "currency", "type": "string"}],
    }
)


def rule(name: str, expr: str) -> Rule:
    return Rule(
        name=name,
        doc=None,
        kind=RuleKind.CONDITION,
        mode=RuleMode.WRITE,
        type="CEL",
        tags=None,
        params=None,
        expr=expr,
        on_success=None,
        on_failure="ERROR",
        disabled=False,
    )


POSITIVE = rule("amount_is_positive", "message.amount > 0")
CURRENCY = rule("currency_is_iso", "message.currency.matches('^[A-Z]{3}$')")
METADATA = Metadata(tags=MetadataTags({}), properties=MetadataProperties({"owner": "payments"}), sensitive=[])


def fresh(url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": url})


def with_contract(rules: list[Rule], metadata: Metadata | None = METADATA) -> Schema:
    return Schema(PURCHASE, "AVRO", [], metadata, RuleSet(migration_rules=None, domain_rules=rules))


def rule_names(schema: Schema) -> list[str]:
    assert schema.rule_set is not None
    return [str(r.name) for r in schema.rule_set.domain_rules or []]


def test_metadata_and_rule_set_round_trip_through_every_read_route(
    registry_server: RegistryHandle, subject: str, api: httpx.Client
) -> None:
    """Confluent stores `metadata` and `ruleSet` with the version and returns them on every read."""
    registered = fresh(registry_server.url).register_schema_full_response(subject, with_contract([POSITIVE]))
    assert registered.schema_id is not None
    client = fresh(registry_server.url)
    latest = client.get_latest_version(subject)
    assert rule_names(latest.schema) == ["amount_is_positive"]
    assert latest.schema.metadata is not None
    assert latest.schema.metadata.properties is not None
    assert dict(latest.schema.metadata.properties.properties) == {"owner": "payments"}
    assert rule_names(client.get_schema(registered.schema_id)) == ["amount_is_positive"]
    assert rule_names(client.get_version(subject, 1).schema) == ["amount_is_positive"]
    found = client.lookup_schema(subject, with_contract([POSITIVE]))
    assert (found.schema_id, found.version) == (registered.schema_id, 1)
    assert rule_names(found.schema) == ["amount_is_positive"]
    [listed] = [s for s in api.get("/schemas", params={"subjectPrefix": subject}).json()]
    assert listed["ruleSet"]["domainRules"][0]["expr"] == "message.amount > 0"
    assert listed["metadata"]["properties"] == {"owner": "payments"}


def test_a_schema_sent_without_contract_keeps_the_latest_versions_one(
    registry_server: RegistryHandle, subject: str
) -> None:
    """Confluent: a registration without metadata or ruleSet inherits the latest version's (same version)."""
    first = fresh(registry_server.url).register_schema_full_response(subject, with_contract([POSITIVE]))
    bare = fresh(registry_server.url).register_schema_full_response(subject, Schema(PURCHASE, "AVRO"))
    assert (bare.schema_id, bare.version) == (first.schema_id, first.version)
    found = fresh(registry_server.url).lookup_schema(subject, Schema(PURCHASE, "AVRO"))
    assert found.version == first.version


def test_a_rule_change_is_a_new_version_with_a_new_id(registry_server: RegistryHandle, subject: str) -> None:
    """Confluent identifies a schema by its text, references, metadata and ruleSet."""
    first = fresh(registry_server.url).register_schema_full_response(subject, with_contract([POSITIVE]))
    second = fresh(registry_server.url).register_schema_full_response(
        subject, with_contract([POSITIVE, CURRENCY])
    )
    assert second.version == 2
    assert second.schema_id != first.schema_id
    client = fresh(registry_server.url)
    assert client.get_versions(subject) == [1, 2]
    assert rule_names(client.get_latest_version(subject).schema) == ["amount_is_positive", "currency_is_iso"]


@pytest.mark.parametrize(
    "rule_set",
    [
        "nope",
        {"domainRules": "nope"},
        {"domainRules": [{"type": "CEL", "expr": "true"}]},
        {"domainRules": [{"name": "r", "expr": "true"}]},
    ],
)
def test_an_invalid_rule_set_is_refused_with_42210(api: httpx.Client, subject: str, rule_set: Any) -> None:
    """Confluent refuses a malformed ruleSet with 422 / 42210."""
    response = api.post(f"/subjects/{subject}/versions", json={"schema": PURCHASE, "ruleSet": rule_set})
    assert (response.status_code, response.json()["error_code"]) == (422, 42210)
