"""The registry's errors, each with Confluent's HTTP status, error code and message text.

The texts are Confluent's format strings verbatim, quirks included ("soft deleted.Set",
"is not a valid."), because clients and tools match on them. The client's side of the same
answers is `accord.registry_client.errors` (`SubjectNotFoundError`, ...); the names here differ
on purpose, so that one name never means two classes.
"""

from __future__ import annotations

from accord.runtime.errors import AccordError

MAX_VERSION = 2**31 - 1


class RegistryError(AccordError):
    """An error answered as `{"error_code", "message"}` with an HTTP status."""

    status = 500
    code = 50001

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownSubjectError(RegistryError):
    status, code = 404, 40401

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found.")


class UnknownVersionError(RegistryError):
    status, code = 404, 40402

    def __init__(self, version: int | str) -> None:
        super().__init__(f"Version {version} not found.")


class UnknownSchemaError(RegistryError):
    status, code = 404, 40403

    def __init__(self, schema_id: int | None = None) -> None:
        super().__init__("Schema not found" if schema_id is None else f"Schema {schema_id} not found")


class SubjectSoftDeletedError(RegistryError):
    status, code = 404, 40404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently")


class SubjectNotSoftDeletedError(RegistryError):
    status, code = 404, 40405

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was not deleted first before being permanently deleted")


class VersionSoftDeletedError(RegistryError):
    status, code = 404, 40406

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"
        )


class VersionNotSoftDeletedError(RegistryError):
    status, code = 404, 40407

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
        )


class SubjectConfigNotFoundError(RegistryError):
    status, code = 404, 40408

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level compatibility configured")


class SubjectModeNotFoundError(RegistryError):
    status, code = 404, 40409

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level mode configured")


class CompatibilityViolationError(RegistryError):
    """Incompatible with an earlier version: 409 with error code 409 (Confluent before 8.1.2)."""

    status, code = 409, 409

    def __init__(self, subject: str, details: list[str], level: str) -> None:
        listed = ", ".join([*details, f"{{validateFields: 'false', compatibility: '{level}'}}"])
        super().__init__(
            f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
            f"details: [{listed}]"
        )
        self.details = details


class InvalidAvroSchemaError(RegistryError):
    status, code = 422, 42201


class InvalidVersionError(RegistryError):
    status, code = 422, 42202

    def __init__(self, version: str) -> None:
        super().__init__(
            f"The specified version '{version}' is not a valid version id. "
            f'Allowed values are between [1, 2^31-1] and the string "latest"'
        )


class InvalidCompatibilityLevelError(RegistryError):
    status, code = 422, 42203

    def __init__(self) -> None:
        super().__init__(
            "Invalid compatibility level. Valid values are none, backward, forward, full, "
            "backward_transitive, forward_transitive, and full_transitive"
        )


class InvalidModeError(RegistryError):
    status, code = 422, 42204

    def __init__(self) -> None:
        super().__init__("Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD.")


class OperationNotPermittedError(RegistryError):
    status, code = 422, 42205


class ReferenceExistsError(RegistryError):
    status, code = 422, 42206

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            "One or more references exist to the schema "
            f"{{magic=1,keytype=SCHEMA,subject={subject},version={version}}}."
        )


class ImportIdMismatchError(RegistryError):
    status, code = 422, 42207

    def __init__(self) -> None:
        super().__init__("The ID of an imported schema does not match the existing ID")


class InvalidSubjectError(RegistryError):
    status, code = 422, 42208

    def __init__(self, subject: str) -> None:
        super().__init__(f"The specified subject '{subject}' is not a valid.")


class SchemaTooLargeError(RegistryError):
    status, code = 422, 42209

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Schema is too large: {size} bytes, the limit is {limit}")


class InvalidRuleSetError(RegistryError):
    status, code = 422, 42210


class InvalidRequestError(RegistryError):
    """A body that is not JSON or lacks a required property (Confluent answers 422 / 422)."""

    status, code = 422, 422


class StoreError(RegistryError):
    status, code = 500, 50001


class StoreTimeoutError(RegistryError):
    status, code = 500, 50002


class TopicMisconfiguredError(AccordError):
    """The `_schemas` topic exists with more than one partition or without compaction."""
