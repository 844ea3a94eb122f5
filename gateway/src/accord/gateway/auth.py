"""Write keys: who may send, and which subjects.

Keys are configured hashed (SHA-256 of the secret) in a JSON file:
`[{"key_id": "web", "sha256": "<hex>", "subjects": ["events-accord.events.*"],
"origins": ["https://shop.example.com"]}]`. `origins` (optional, none by default) lists the
browser origins that may send with the key (CORS), `"*"` for any. Without a file, only the
development key `dev-write-key` (id `dev`, subjects `events-*`, any origin) works, so a local
stack accepts traffic out of the box.

A key is presented as `Authorization: Bearer <key>`, as `Authorization: Basic` of `<key>:` (the
write key as user name, an empty password: Segment's clients), or, where a browser cannot set
headers (`navigator.sendBeacon`), as the query parameter or body field `writeKey`.
"""

from __future__ import annotations

import base64
import binascii
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
ANY_ORIGIN = "*"


def hash_key(secret: str) -> str:
    """The SHA-256 hex digest under which a write key is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class WriteKey:
    """One configured write key: its public id, the subject patterns it may send, its browser origins."""

    key_id: str
    sha256: str
    subjects: Sequence[str]
    origins: frozenset[str] = frozenset()
    _allowed: dict[str, bool] = field(default_factory=dict, repr=False)

    def allows(self, subject: str) -> bool:
        """True when `subject` matches one of the key's glob patterns."""
        allowed = self._allowed.get(subject)
        if allowed is None:
            allowed = any(fnmatchcase(subject, pattern) for pattern in self.subjects)
            self._allowed[subject] = allowed
        return allowed

    def allows_origin(self, origin: str) -> bool:
        """True when a browser page of `origin` may send with this key."""
        return ANY_ORIGIN in self.origins or origin in self.origins


class WriteKeyStore:
    """Looks up write keys by the hash of the presented secret."""

    def __init__(self, keys: Iterable[WriteKey]) -> None:
        self._by_hash = {key.sha256: key for key in keys}
        self._origins = frozenset().union(*(key.origins for key in self._by_hash.values()))

    def any_allows_origin(self, origin: str) -> bool:
        """True when some key may send from `origin` (a preflight names no key)."""
        return ANY_ORIGIN in self._origins or origin in self._origins

    @classmethod
    def development(cls) -> WriteKeyStore:
        """The store of a local stack: the documented development key only."""
        return cls(
            [
                WriteKey(
                    DEVELOPMENT_KEY_ID,
                    hash_key(DEVELOPMENT_KEY),
                    DEVELOPMENT_SUBJECTS,
                    frozenset({ANY_ORIGIN}),
                )
            ]
        )

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

    def authenticate(self, authorization: str | None, write_key: object = None) -> WriteKey:
        """The key of an `Authorization` header (Bearer, or Basic with the key as user name).

        Without the header, `write_key` (the `writeKey` query parameter or body field) is used;
        `UnauthenticatedError` when neither names a known key.
        """
        if authorization:
            secret = _secret_of(authorization)
        elif isinstance(write_key, str) and write_key.strip():
            secret = write_key.strip()
        else:
            raise UnauthenticatedError(
                ErrorCode.MISSING_WRITE_KEY,
                "send the write key as 'Authorization: Bearer <key>' (or Basic with the key as user name)",
            )
        key = self._by_hash.get(hash_key(secret))
        if key is None:
            raise UnauthenticatedError(
                ErrorCode.INVALID_WRITE_KEY, "the write key is not known to this gateway"
            )
        return key

    def key_named(self, secret: str | None) -> WriteKey | None:
        """The key whose secret is `secret`, None when there is none."""
        return self._by_hash.get(hash_key(secret)) if secret else None


def _secret_of(authorization: str) -> str:
    """The write key of a Bearer or Basic (`<key>:`) Authorization header."""
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            user, _, _password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        if user.strip():
            return user.strip()
    raise UnauthenticatedError(
        ErrorCode.MALFORMED_AUTHORIZATION,
        "the Authorization header must be 'Bearer <write key>' or 'Basic base64(<write key>:)'",
    )


def _parse_entry(path: Path, index: int, entry: object) -> WriteKey:
    if not isinstance(entry, dict):
        raise WriteKeysFileError(f"{path}: entry {index} must be an object")
    key_id, digest, subjects = entry.get("key_id"), entry.get("sha256"), entry.get("subjects")
    origins = entry.get("origins", [])
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
    if not isinstance(origins, list) or not all(isinstance(o, str) and _is_origin(o) for o in origins):
        raise WriteKeysFileError(
            f"{path}: entry {index} ({key_id}): 'origins' must be a list of origins such as "
            "'https://shop.example.com' (scheme, host, optional port; no path) or '*'"
        )
    return WriteKey(key_id, digest, tuple(subjects), frozenset(origins))


def _is_origin(text: str) -> bool:
    """`*`, or `scheme://host[:port]` as browsers send it in the Origin header."""
    if text == ANY_ORIGIN:
        return True
    scheme, sep, rest = text.partition("://")
    return bool(sep) and scheme in ("http", "https") and bool(rest) and "/" not in rest
