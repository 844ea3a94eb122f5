"""Write keys: who may send, and which subjects.

Keys are configured hashed (SHA-256 of the secret) in a JSON file:
`[{"key_id": "web", "sha256": "<hex>", "subjects": ["events-accord.events.*"]}]`.
Without a file, only the development key `dev-write-key` (id `dev`, subjects `events-*`) works,
so a local stack accepts traffic out of the box.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from accord.gateway.errors import UnauthenticatedError, WriteKeysFileError
from accord.wire.error_codes import ErrorCode

DEVELOPMENT_KEY = "dev-write-key"
DEVELOPMENT_KEY_ID = "dev"
DEVELOPMENT_SUBJECTS = ("events-*",)


def hash_key(secret: str) -> str:
    """The SHA-256 hex digest under which a write key is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class WriteKey:
    """One configured write key: its public id and the subject patterns it may send."""

    key_id: str
    sha256: str
    subjects: Sequence[str]
    _allowed: dict[str, bool] = field(default_factory=dict, repr=False)

    def allows(self, subject: str) -> bool:
        """True when `subject` matches one of the key's glob patterns."""
        allowed = self._allowed.get(subject)
        if allowed is None:
            allowed = any(fnmatchcase(subject, pattern) for pattern in self.subjects)
            self._allowed[subject] = allowed
        return allowed


class WriteKeyStore:
    """Looks up write keys by the hash of the presented secret."""

    def __init__(self, keys: Iterable[WriteKey]) -> None:
        self._by_hash = {key.sha256: key for key in keys}

    @classmethod
    def development(cls) -> WriteKeyStore:
        """The store of a local stack: the documented development key only."""
        return cls([WriteKey(DEVELOPMENT_KEY_ID, hash_key(DEVELOPMENT_KEY), DEVELOPMENT_SUBJECTS)])

    @classmethod
    def from_file(cls, path: Path) -> WriteKeyStore:
        """Read the keys file; raise `WriteKeysFileError` naming the entry and field at fault."""
        try:
            entries = json.loads(path.read_text())
        except OSError as exc:
            raise WriteKeysFileError(f"cannot read write keys file {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise WriteKeysFileError(f"write keys file {path} is not valid JSON: {exc}") from exc
        if not isinstance(entries, list):
            raise WriteKeysFileError(f"write keys file {path} must hold a JSON list of keys")
        keys = []
        for index, entry in enumerate(entries):
            keys.append(_parse_entry(path, index, entry))
        return cls(keys)

    def authenticate(self, authorization: str | None) -> WriteKey:
        """The key named by an `Authorization: Bearer <key>` header, or `UnauthenticatedError`."""
        if not authorization:
            raise UnauthenticatedError(
                ErrorCode.MISSING_WRITE_KEY, "send the write key as 'Authorization: Bearer <key>'"
            )
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise UnauthenticatedError(
                ErrorCode.MALFORMED_AUTHORIZATION, "the Authorization header must be 'Bearer <write key>'"
            )
        key = self._by_hash.get(hash_key(secret.strip()))
        if key is None:
            raise UnauthenticatedError(
                ErrorCode.INVALID_WRITE_KEY, "the write key is not known to this gateway"
            )
        return key


def _parse_entry(path: Path, index: int, entry: object) -> WriteKey:
    if not isinstance(entry, dict):
        raise WriteKeysFileError(f"{path}: entry {index} must be an object")
    key_id, digest, subjects = entry.get("key_id"), entry.get("sha256"), entry.get("subjects")
    if not isinstance(key_id, str) or not key_id:
        raise WriteKeysFileError(f"{path}: entry {index}: 'key_id' must be a non-empty string")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise WriteKeysFileError(
            f"{path}: entry {index} ({key_id}): 'sha256' must be 64 lowercase hex digits"
        )
    if not isinstance(subjects, list) or not all(isinstance(s, str) and s for s in subjects):
        raise WriteKeysFileError(
            f"{path}: entry {index} ({key_id}): 'subjects' must be a list of glob patterns"
        )
    return WriteKey(key_id, digest, tuple(subjects))
