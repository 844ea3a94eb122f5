"""Errors of the gateway: request-level problems answered with a 4xx/5xx and an error code."""

from __future__ import annotations

from accord.runtime.errors import AccordError
from accord.wire.error_codes import ErrorCode


class GatewayError(AccordError):
    """Base class of the gateway's errors."""


class WriteKeysFileError(GatewayError):
    """The write keys file is missing, unreadable or malformed."""


class GatewayStartError(GatewayError):
    """A gateway worker process failed before it served (settings, Kafka, the port)."""


class RequestRejectedError(GatewayError):
    """A whole request is refused: answered with `status` and `{"error": {"code", "message"}}`."""

    status: int = 400

    def __init__(self, code: ErrorCode, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s


class BadRequestError(RequestRejectedError):
    """The body cannot be read as a batch (malformed JSON, bad encoding, empty batch …)."""

    status = 400


class UnauthenticatedError(RequestRejectedError):
    """No write key, or one the gateway does not know."""

    status = 401


class ForbiddenError(RequestRejectedError):
    """The write key may not send the subject(s) of the request."""

    status = 403


class NotFoundError(RequestRejectedError):
    """The requested schema or subject is not registered."""

    status = 404


class PayloadTooLargeError(RequestRejectedError):
    """The body or the batch exceeds a configured limit."""

    status = 413


class UnsupportedMediaTypeError(RequestRejectedError):
    """The content type or content encoding is not one the gateway reads."""

    status = 415


class RateLimitedError(RequestRejectedError):
    """The write key sent more events than its rate allows."""

    status = 429


class UnavailableError(RequestRejectedError):
    """Kafka or the registry cannot take the request now; the client should retry later."""

    status = 503
