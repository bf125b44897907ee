"""The event contract: the committed schema snapshot, and no incompatible change to an existing event version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from events.schema import asyncapi, codecs, incompatibilities, json_schema

pytestmark = pytest.mark.unit

SNAPSHOT = Path(__file__).parents[2] / "events" / "schema" / "events.schema.json"


def test_every_committed_event_version_can_still_be_read() -> None:
    committed = json.loads(SNAPSHOT.read_text())
    assert incompatibilities(committed, json_schema()) == []


def test_the_snapshot_lists_every_event_so_new_ones_are_guarded_too() -> None:
    committed = json.loads(SNAPSHOT.read_text())
    missing = sorted(set(json_schema()["events"]) - set(committed["events"]))
    assert missing == [], f"run `gotong events schema` and commit events/schema/: {missing}"


def test_incompatible_changes_are_caught() -> None:
    old = {
        "events": {"x.A.v1": {"$ref": "#/components/schemas/A"}},
        "components": {
            "schemas": {
                "A": {"properties": {"qty": {"type": "integer"}, "note": {"type": "string"}}, "required": ["qty"]}
            }
        },
    }
    renamed = {
        "events": {"x.A.v1": {}},
        "components": {"schemas": {"A": {"properties": {"quantity": {"type": "integer"}}, "required": ["quantity"]}}},
    }
    retyped = {
        "events": {"x.A.v1": {}},
        "components": {"schemas": {"A": {"properties": {"qty": {"type": "string"}, "note": {"type": "string"}}}}},
    }
    extended = {
        "events": {"x.A.v1": {}, "x.B.v1": {}},
        "components": {
            "schemas": {
                "A": {
                    "properties": {"qty": {"type": "integer"}, "note": {"type": "string"}, "lot": {"type": "string"}},
                    "required": ["qty"],
                }
            }
        },
    }
    assert "A.qty was removed" in incompatibilities(old, renamed)
    assert "A.quantity is newly required (give it a default)" in incompatibilities(old, renamed)
    assert any("A.qty changed" in p for p in incompatibilities(old, retyped))
    assert incompatibilities(old, {"events": {}, "components": {"schemas": {}}}) == [
        "event x.A.v1 was removed",
        "type A was removed",
    ]
    assert incompatibilities(old, extended) == [], "a new optional field and a new event are compatible"


def test_every_service_tags_its_events_with_a_version_and_asyncapi_lists_them() -> None:
    schema = json_schema()
    services = {codec.service for codec in codecs()}
    assert {"catalog", "orders", "pooling", "quality"} <= services
    for tag in schema["events"]:
        assert tag.split(".")[0] in services and tag.rsplit(".", 1)[1].startswith("v")
    document = asyncapi(schema)
    assert document["asyncapi"] == "3.0.0"
    assert len(document["components"]["messages"]) == len(schema["events"])
