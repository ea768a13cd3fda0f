"""Refusals of the service layer, one stable `reason` each, beside host.wire's WireError."""
from __future__ import annotations


class ServiceError(Exception):
    reason: str = "error"
    http_status: int = 400

    def __init__(self, message: str | None = None, reason: str | None = None,
                 **extra: object) -> None:
        if reason:
            self.reason = reason
        self.message: str = message or self.reason
        self.extra = extra                # more fields of the JSON refusal
        super().__init__(self.message)


class BadRequest(ServiceError):
    reason, http_status = "bad_request", 400


class NotFound(ServiceError):
    reason, http_status = "not_found", 404


class Forbidden(ServiceError):
    reason, http_status = "forbidden", 403


class Conflict(ServiceError):
    reason, http_status = "conflict", 409


class StaleList(ServiceError):
    """A trust or status list whose seq is not newer than the one held."""
    reason, http_status = "not_newer", 409


class InvalidTransition(ServiceError):
    reason, http_status = "invalid_transition", 409


class NoStatusKey(ServiceError):
    reason, http_status = "no_status_key", 409


class Unavailable(ServiceError):
    """A part of the service that the operator has not configured."""
    reason, http_status = "unavailable", 503
