"""What a route answers besides a view: the stored answer of an idempotent command, typed as its view."""

from __future__ import annotations

from typing import TypeVar, cast

from litestar import Response

from shared.api import StoredResponse

V = TypeVar("V")


def stored(answer: StoredResponse, view: type[V]) -> Response[V]:
    """The answer ``idempotent`` kept (its bytes sent as they are), documented in OpenAPI as ``view``."""
    response = Response(content=answer.body, status_code=answer.status, media_type="application/json")
    return cast("Response[V]", response)
