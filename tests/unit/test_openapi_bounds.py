"""Every value a client can send is bounded in the OpenAPI document of every service.

The document is what clients and the fuzzing test generate requests from, and a field left unbounded there is
usually unbounded in the code too: a whole number that overflows the column it is projected into, or a string
of any length. So every integer property and integer parameter needs a minimum and a maximum, and every string
a maxLength (unless it is an enum, a constant, a UUID, a date or a time). A new unbounded field fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from shared.config import Settings
from shared.http import create_app
from shared.service import load_services

pytestmark = pytest.mark.unit

_INHERITED = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength", "pattern", "format", "enum")
_BOUNDED_FORMATS = {"uuid", "date", "date-time"}


def _document() -> dict[str, Any]:
    settings = replace(Settings(), database_url="postgresql://unused", nats_url="nats://unused", jwt_secret="x" * 40)
    app = create_app(settings, load_services())
    document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


class _Walk:
    def __init__(self, document: dict[str, Any]) -> None:
        self.components: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self.unbounded: list[str] = []

    def schema(self, schema: Any, where: str, seen: frozenset[str] = frozenset(), outer: Any = None) -> None:
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                self.schema(self.components[name], f"{where}<{name}>", seen | {name})
            return
        # Litestar puts the constraints of an optional field beside its ``oneOf``; they hold for every branch.
        schema = {**(outer or {}), **schema}
        for key in ("oneOf", "anyOf", "allOf"):
            for branch in schema.get(key, []):
                self.schema(branch, where, seen, {k: schema[k] for k in _INHERITED if k in schema})
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "integer" in kinds and not (
            {"minimum", "exclusiveMinimum"} & schema.keys() and {"maximum", "exclusiveMaximum"} & schema.keys()
        ):
            self.unbounded.append(f"{where}: integer without a minimum and a maximum")
        if (
            "string" in kinds
            and "maxLength" not in schema
            and "enum" not in schema
            and "const" not in schema
            and schema.get("format") not in _BOUNDED_FORMATS
        ):
            self.unbounded.append(f"{where}: string without a maxLength")
        for name, child in schema.get("properties", {}).items():
            self.schema(child, f"{where}.{name}", seen)
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            if isinstance(schema.get(key), dict):
                self.schema(schema[key], f"{where}{suffix}", seen)
        for child in schema.get("prefixItems", []):
            self.schema(child, f"{where}[]", seen)


def _inputs(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every parameter and request body of every operation, with a name for it."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                yield f"{method.upper()} {path} ?{parameter['name']}", parameter.get("schema")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield f"{method.upper()} {path} body", media.get("schema")


def test_every_integer_and_string_a_client_sends_is_bounded_in_the_openapi_document() -> None:
    document = _document()
    walk = _Walk(document)
    inputs = list(_inputs(document))
    for where, schema in inputs:
        walk.schema(schema, where)
    assert {path.split("/")[2] for path in document["paths"] if path.startswith("/v1/")} >= {
        "msmes", "products", "orders", "buyers", "pools", "allocation-requests", "standards", "inspections",
    }  # fmt: skip
    assert len(inputs) > 100
    assert walk.unbounded == []


def test_the_walk_finds_an_unbounded_integer_and_string_in_any_position() -> None:
    walk = _Walk({"components": {"schemas": {"Body": {"properties": {"n": {"type": "integer", "minimum": 1}}}}}})
    walk.schema({"$ref": "#/components/schemas/Body"}, "body")
    walk.schema({"oneOf": [{"type": "string"}, {"type": "null"}], "maxLength": 3}, "optional")
    walk.schema({"type": "array", "items": {"type": "string"}}, "list")
    walk.schema({"type": "object", "additionalProperties": {"type": "integer", "maximum": 9}}, "map")
    walk.schema({"type": "string", "format": "uuid"}, "id")
    assert walk.unbounded == [
        "body<Body>.n: integer without a minimum and a maximum",
        "list[]: string without a maxLength",
        "map{}: integer without a minimum and a maximum",
    ]
