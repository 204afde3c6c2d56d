"""The exception tree. Every error a user can cause is a ``HallmarkError``.

Each class carries its HTTP status and a stable machine ``code``; the API renders them as
``{"error": {"code": ..., "message": ...}}`` and the CLI as one ``error: ...`` line (exit 2).
"""

from __future__ import annotations

from typing import Any, ClassVar


class HallmarkError(Exception):
    """Base of every error hallmark raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class UserError(HallmarkError):
    """Bad input: the caller can fix it."""

    status = 400
    code = "bad_request"
    exit_code = 2


class ValidationFailed(UserError):
    status = 422
    code = "validation_error"


class UnknownJurisdiction(UserError):
    code = "unknown_jurisdiction"


class PolicyFileError(HallmarkError):
    """A jurisdiction file is malformed: a deployment error, not a request error."""

    code = "policy_file_error"
    exit_code = 2


class UnknownComponent(UserError):
    """A named engine, screen, marker or job kind is not registered."""

    code = "unknown_component"


class MissingMarker(HallmarkError):
    """The policy requires a label that no registered marker can write."""

    status = 422
    code = "missing_marker"
    exit_code = 2


class ContentBlocked(HallmarkError):
    """Screening blocked the input or the output."""

    status = 422
    code = "content_blocked"
    exit_code = 1


class NotAuthenticated(UserError):
    status = 401
    code = "not_authenticated"


class Forbidden(UserError):
    status = 403
    code = "forbidden"


class NotFound(UserError):
    status = 404
    code = "not_found"


class Conflict(UserError):
    status = 409
    code = "conflict"


class PayloadTooLarge(UserError):
    status = 413
    code = "payload_too_large"


class LedgerTampered(HallmarkError):
    """Ledger verification found a broken chain."""

    status = 409
    code = "ledger_tampered"
    exit_code = 1


class StoreUnavailable(HallmarkError):
    status = 503
    code = "store_unavailable"
    exit_code = 1


class ConfigurationError(UserError):
    """A setting in the environment has a bad value."""

    code = "configuration_error"


class ContextTooLong(UserError):
    """The conversation does not fit the model's context window."""

    code = "context_length_exceeded"


class UpstreamError(HallmarkError):
    """A model backend failed or answered with an error."""

    status = 502
    code = "upstream_error"
    exit_code = 1


class UpstreamTimeout(UpstreamError):
    """A model backend did not answer in time."""

    status = 504
    code = "upstream_timeout"


class UsageLimit(UserError):
    """A limit on use was reached, such as the daily time of minors mode."""

    status = 429
    code = "usage_limit"
