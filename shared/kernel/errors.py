"""Domain errors, mapped to problem details in one place (``shared.problems``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class GotongError(Exception):
    """Base of every error Gotong reports to a client."""

    status = 400
    problem = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(GotongError):
    """The request is well formed but some fields are not acceptable."""

    status = 422
    problem = "validation"
    title = "Invalid input"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def of(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldError(field, message)])


class MalformedRequest(GotongError):
    status = 400
    problem = "malformed-request"
    title = "Malformed request"


class Unauthenticated(GotongError):
    status = 401
    problem = "unauthenticated"
    title = "Authentication required"


class Forbidden(GotongError):
    status = 403
    problem = "forbidden"
    title = "Forbidden"


class NotFound(GotongError):
    status = 404
    problem = "not-found"
    title = "Not found"


class Conflict(GotongError):
    """A command contradicts the current state (illegal transition, over-allocation, …)."""

    status = 409
    problem = "conflict"
    title = "Conflict"

    def __init__(self, detail: str, *, problem: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        if problem is not None:
            self.problem = problem


class PreconditionFailed(GotongError):
    status = 412
    problem = "precondition-failed"
    title = "Precondition failed"


class NotReady(GotongError):
    status = 503
    problem = "not-ready"
    title = "Not ready"
