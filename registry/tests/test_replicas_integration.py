"""A writer and two followers on one topic: the writer SIGKILLed under registrations.

Followers keep answering reads, refuse writes with 503 (and `Retry-After`) while the writer is
down, and forward them again once it is back. Every id a client was given keeps naming its
schema on every instance, no id names two schemas, and a schema keeps its id.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from accord.registry.testing import RegistryFactory, RegistryHandle
from accord.runtime.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def schema(name: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": "id", "type": "string"}]})


@dataclass
class Registrations:
    """Registers a new schema after another, through the followers in turn, noting each answer."""

    urls: list[str]
    given: dict[str, int] = field(default_factory=dict)
    """schema name → the id a 200 answer gave"""
    refused: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    """(schema name, status, error_code, Retry-After) of every other answer"""
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as api:
            for n, url in zip(itertools.count(), itertools.cycle(self.urls)):
                if self.stopping.is_set():
                    return
                name = f"R{n}_{uuid.uuid4().hex[:6]}"
                answer = api.post(f"{url}/subjects/replicas-{name}/versions", json={"schema": schema(name)})
                if answer.status_code == 200:
                    self.given[name] = answer.json()["id"]
                else:
                    body = answer.json()
                    self.refused.append(
                        (name, answer.status_code, body["error_code"], answer.headers.get("retry-after"))
                    )

    def count(self) -> int:
        return len(self.given)


@contextmanager
def registering(registrations: Registrations) -> Iterator[Registrations]:
    thread = threading.Thread(target=registrations.run, daemon=True)
    thread.start()
    try:
        yield registrations
    finally:
        registrations.stopping.set()
        thread.join(timeout=60)


def _subjects(api: httpx.Client, url: str) -> set[str]:
    return set(api.get(f"{url}/subjects").json())


def _more_given(registrations: Registrations, more: int) -> None:
    target = registrations.count() + more
    wait_until(
        registrations.count, until=lambda n: n >= target, timeout_s=60, describe=f"{more} more registrations"
    )


def test_writer_killed_followers_serve_reads_refuse_writes_and_ids_never_repeat(
    registry_factory: RegistryFactory,
) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    writer = registry_factory(topic)
    followers: list[RegistryHandle] = [registry_factory(topic, writer_url=writer.url) for _ in range(2)]
    urls = [f.url for f in followers]

    with registering(Registrations(urls)) as registrations:
        _more_given(registrations, 10)
        writer.kill()
        refused_before = len(registrations.refused)
        wait_until(
            lambda: len(registrations.refused) - refused_before,
            until=lambda n: n >= 4,
            timeout_s=30,
            describe="writes refused while the writer is down",
        )
        given_while_down = dict(registrations.given)
        # reads go on: every id given so far, from every follower
        with httpx.Client(timeout=30) as api:
            for follower in urls:
                for name, schema_id in given_while_down.items():
                    answer = api.get(f"{follower}/schemas/ids/{schema_id}")
                    assert answer.status_code == 200, answer.text
                    assert json.loads(answer.json()["schema"])["name"] == name
                assert api.get(f"{follower}/subjects/replicas-{name}/versions").json() == [1]
        writer.start()
        _more_given(registrations, 10)

    assert {status for _, status, _, _ in registrations.refused} == {503}
    # 50003: the writer could not be reached; 50002: the restarted writer was still reading its
    # topic, which the follower relays (both are 503 with Retry-After)
    codes = {code for _, _, code, _ in registrations.refused}
    assert 50003 in codes
    assert codes <= {50002, 50003}
    assert all(retry == "1" for _, _, _, retry in registrations.refused)
    ids = list(registrations.given.values())
    assert len(set(ids)) == len(ids), "an id was given to two schemas"
    with httpx.Client(timeout=30) as api:
        for url in [writer.url, *urls]:
            wait_until(
                functools.partial(_subjects, api, url),
                until=lambda subjects: {f"replicas-{n}" for n in registrations.given} <= subjects,
                timeout_s=30,
                describe=f"{url} to hold every registered subject",
            )
            for name, schema_id in registrations.given.items():
                stored = api.get(f"{url}/schemas/ids/{schema_id}").json()
                assert json.loads(stored["schema"])["name"] == name, f"id {schema_id} on {url}"
        # sent again, a schema keeps its id; one refused (perhaps written just before the kill)
        # gets an id no other schema has
        ids_by_name = dict(registrations.given)
        for name, *_ in registrations.refused:
            ids_by_name[name] = api.post(
                f"{urls[0]}/subjects/replicas-{name}/versions", json={"schema": schema(name)}
            ).json()["id"]
        for name, schema_id in registrations.given.items():
            again = api.post(f"{urls[1]}/subjects/replicas-{name}/versions", json={"schema": schema(name)})
            assert again.json()["id"] == schema_id
    assert len(set(ids_by_name.values())) == len(ids_by_name), "an id was given to two schemas"
