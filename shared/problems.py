"""Every error leaves Gotong as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from shared.decider import TooManyConflicts
from shared.eventstore import StreamConflict
from shared.kernel.choices import explain
from shared.kernel.errors import FieldError, GotongError, InvalidInput
from shared.outages import is_outage

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_OUTAGE = 2  # seconds a client waits before retrying while PostgreSQL or NATS is away
log = logging.getLogger("gotong.http")


class ProblemField(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem; ``errors`` lists each invalid field."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = None


_TITLES = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid input"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("not-ready", "Not ready"),
}
_UNAVAILABLE = ("unavailable", "Service unavailable")


def problem_response(
    status: int,
    detail: str,
    *,
    problem: str | None = None,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response[Any]:
    default_problem, default_title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": f"/problems/{problem or default_problem}",
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    body.update(extensions)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _parameter(request: Request[Any, Any, Any], key: str) -> Any:
    try:
        return request.route_handler.parsed_fn_signature.parameters.get(key)
    except Exception:  # no route matched
        return None


def _public_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client used for a parameter (``?wait_for_position=``), not the handler's argument name."""
    name = getattr(getattr(_parameter(request, key), "kwarg_definition", None), "name", None)
    return name if isinstance(name, str) and name else key


def _validation_errors(request: Request[Any, Any, Any], error: ValidationException) -> list[FieldError]:
    extra = error.extra if isinstance(error.extra, list) else []
    errors: list[FieldError] = []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            annotation = getattr(_parameter(request, key), "annotation", None)
            errors.append(
                FieldError(_public_name(request, key), explain(str(item.get("message", "is not valid")), annotation))
            )
    return errors


def handle_exception(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """The one place where exceptions become HTTP responses."""
    if isinstance(error, InvalidInput):
        return problem_response(422, error.detail, errors=error.errors)
    if isinstance(error, GotongError):
        return problem_response(
            error.status, error.detail, problem=error.problem, title=error.title, **error.extensions
        )
    if isinstance(error, StreamConflict | TooManyConflicts):
        return problem_response(409, "the resource was changed concurrently; retry", problem="concurrent-change")
    if isinstance(error, ValidationException):
        errors = _validation_errors(request, error)
        if errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
            return problem_response(422 if any(e.field != "body" for e in errors) else 400, detail, errors=errors)
        return problem_response(400, str(error.detail))
    if isinstance(error, HTTPException):
        status = error.status_code
        headers = dict(error.headers or {})
        detail = str(error.detail) if error.detail else _TITLES.get(status, ("", "Error"))[1]
        if status >= 500:
            log.error("http error %s on %s %s", status, request.method, request.url.path, exc_info=error)
            detail = "the server could not complete the request"
        return problem_response(status, detail, headers=headers or None)
    if is_outage(error):
        log.warning("%s %s: database or bus unavailable: %s: %s", request.method, request.url.path,
                    type(error).__name__, error)  # fmt: skip
        return problem_response(
            503,
            "the service cannot reach its database or message bus right now; retry shortly",
            problem=_UNAVAILABLE[0],
            title=_UNAVAILABLE[1],
            headers={"Retry-After": str(RETRY_AFTER_OUTAGE)},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        500, "an internal error occurred; it has been logged", problem="internal", title="Internal error"
    )


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the problem responses a route can give."""
    return {
        status: ResponseSpec(
            data_container=Problem, description=_TITLES.get(status, ("", "Error"))[1], media_type=PROBLEM_JSON
        )
        for status in statuses
    }


# What any route under /v1 may answer whatever it does: a bad query or path (400/422), no or a bad token
# (401), a role or object it may not touch (403/404), too many requests (429), an outage (503), a fault (500).
EVERY_ROUTE = (400, 401, 403, 404, 422, 429, 500, 503)
# And a route that takes a body: too large (413) or not JSON (415).
BODY_ROUTE = (413, 415)
