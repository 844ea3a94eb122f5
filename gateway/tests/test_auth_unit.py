from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from accord.gateway.auth import DEVELOPMENT_KEY, WriteKeyStore, hash_key
from accord.gateway.errors import UnauthenticatedError, WriteKeysFileError

pytestmark = pytest.mark.unit


def _store(tmp_path: Path, entries: object) -> WriteKeyStore:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(entries))
    return WriteKeyStore.from_file(path)


def test_a_configured_key_authenticates_and_is_limited_to_its_subjects(tmp_path: Path) -> None:
    store = _store(
        tmp_path, [{"key_id": "web", "sha256": hash_key("s3cret"), "subjects": ["events-accord.events.*"]}]
    )
    key = store.authenticate("Bearer s3cret")
    assert key.key_id == "web"
    assert key.allows("events-accord.events.PageView")
    assert not key.allows("events-other.Thing")


def test_the_development_key_may_send_every_events_subject() -> None:
    key = WriteKeyStore.development().authenticate(f"Bearer {DEVELOPMENT_KEY}")
    assert key.allows("events-accord.events.PageView")
    assert not key.allows("accord.common.Envelope")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_write_key"),
        ("Basic abc", "malformed_authorization"),
        (f"Basic {base64.b64encode(b':password').decode()}", "malformed_authorization"),
        (f"Basic {base64.b64encode(b'wrong:').decode()}", "invalid_write_key"),
        ("Bearer ", "malformed_authorization"),
        ("Bearer wrong", "invalid_write_key"),
    ],
)
def test_bad_credentials_are_refused_with_a_specific_code(header: str | None, code: str) -> None:
    with pytest.raises(UnauthenticatedError) as caught:
        WriteKeyStore.development().authenticate(header)
    assert caught.value.code == code
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("entries", "names"),
    [
        ({"key_id": "x"}, "JSON list"),
        ([{"sha256": "0" * 64, "subjects": []}], "'key_id'"),
        ([{"key_id": "x", "sha256": "plain", "subjects": []}], "'sha256'"),
        ([{"key_id": "x", "sha256": "0" * 64, "subjects": "events-*"}], "'subjects'"),
        ([{"key_id": "x", "sha256": "0" * 64, "subjects": [], "origins": "*"}], "'origins'"),
        ([{"key_id": "x", "sha256": "0" * 64, "subjects": [], "origins": ["shop.example.com"]}], "'origins'"),
        (
            [{"key_id": "x", "sha256": "0" * 64, "subjects": [], "origins": ["https://shop.example.com/"]}],
            "'origins'",
        ),
    ],
)
def test_a_malformed_keys_file_names_the_field_at_fault(tmp_path: Path, entries: object, names: str) -> None:
    with pytest.raises(WriteKeysFileError, match=names):
        _store(tmp_path, entries)


def test_a_missing_keys_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(WriteKeysFileError, match="cannot read"):
        WriteKeyStore.from_file(tmp_path / "absent.json")


def test_segment_basic_auth_and_the_writekey_field_name_the_same_key() -> None:
    store = WriteKeyStore.development()
    basic = base64.b64encode(f"{DEVELOPMENT_KEY}:".encode()).decode()
    assert store.authenticate(f"Basic {basic}").key_id == "dev"
    assert store.authenticate(None, DEVELOPMENT_KEY).key_id == "dev"
    # the header wins over a body or query key
    with pytest.raises(UnauthenticatedError):
        store.authenticate("Bearer wrong", DEVELOPMENT_KEY)


def test_origins_are_allowed_per_key(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            {
                "key_id": "web",
                "sha256": hash_key("w"),
                "subjects": [],
                "origins": ["https://shop.example.com"],
            },
            {"key_id": "server", "sha256": hash_key("s"), "subjects": []},
        ],
    )
    web, server = store.authenticate("Bearer w"), store.authenticate("Bearer s")
    assert web.allows_origin("https://shop.example.com")
    assert not web.allows_origin("https://evil.example.com")
    assert not server.allows_origin("https://shop.example.com")
    assert store.any_allows_origin("https://shop.example.com")
    assert not store.any_allows_origin("https://evil.example.com")
