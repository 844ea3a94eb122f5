"""The client's errors: what a registry answer means to a caller.

```
RegistryClientError            error_code / http_status of the answer, when there was one
├── SubjectNotFoundError       40401, 40402, 40404: no such subject, or no such version of it
├── SchemaNotFoundError        40403: no schema with this id, or not registered under the subject
├── IncompatibleSchemaError    409: breaks the subject's compatibility level (`messages` lists why)
├── SchemaRejectedError        any other 4xx: invalid Avro, invalid request
└── RegistryUnavailableError   unreachable, 5xx, 401/403
```

The server has its own classes for the answers it sends (`accord.registry.errors`); these are
the caller's side and carry the code the server sent.
"""

from __future__ import annotations

from accord.runtime.errors import AccordError


class RegistryClientError(AccordError):
    """Base class of the client's errors; `error_code` is the registry's code, when it sent one."""

    def __init__(self, message: str, error_code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.http_status = http_status


class SubjectNotFoundError(RegistryClientError):
    """The subject (or the version of it) does not exist."""


class SchemaNotFoundError(RegistryClientError):
    """No schema with this id, or the schema is not registered under the subject."""


class IncompatibleSchemaError(RegistryClientError):
    """The registry refused the schema: it breaks the subject's compatibility level."""

    def __init__(self, message: str, error_code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message, error_code, http_status)
        self.messages = _incompatibility_details(message)


class SchemaRejectedError(RegistryClientError):
    """The registry refused the schema as invalid Avro (or the request as invalid)."""


class RegistryUnavailableError(RegistryClientError):
    """The registry could not be reached or answered with a server error."""


def _incompatibility_details(message: str) -> list[str]:
    _, _, details = message.partition("details: [")
    return [part for part in details.rstrip("]").split(", ") if part and not part.startswith("{")]
