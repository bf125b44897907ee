"""JSON Schema and AsyncAPI documents of every event, generated from the structs."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import msgspec

import events
from events.base import EventCodec, event_tag, split_tag


def codecs() -> list[EventCodec]:
    """Every service's codec, found as ``CODEC`` in the modules of the ``events`` package."""
    found: list[EventCodec] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(events.__path__)):
        codec = getattr(importlib.import_module(f"events.{module}"), "CODEC", None)
        if isinstance(codec, EventCodec):
            found.append(codec)
    return found


def json_schema() -> dict[str, Any]:
    """``{"events": {tag: {"$ref": ...}}, "components": {"schemas": {...}}}`` for all events."""
    classes = [cls for codec in codecs() for cls in codec.classes.values()]
    refs, components = msgspec.json.schema_components(classes, ref_template="#/components/schemas/{name}")
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Gotong events",
        "events": {event_tag(cls): ref for cls, ref in zip(classes, refs, strict=True)},
        "components": {"schemas": components},
    }
    normalised: dict[str, Any] = json.loads(json.dumps(document))  # as stored: tuples become lists
    return normalised


def asyncapi(schema: dict[str, Any]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for tag, ref in schema["events"].items():
        service, name, version = split_tag(tag)
        key = f"{service}.{name}.v{version}"
        messages[key] = {"name": name, "title": f"{service} {name} v{version}", "payload": ref}
        channel = f"{service}.{name}"
        channels.setdefault(
            channel,
            {
                "address": f"{{prefix}}.{service}.{name}",
                "parameters": {"prefix": {"description": "GOTONG_NATS_PREFIX, default gotong"}},
                "messages": {},
            },
        )
        channels[channel]["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        operations[f"publish.{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{service} relays {name} to JetStream (Nats-Msg-Id = event id)",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Gotong events", "version": "1"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schema["components"]["schemas"]},
    }


def webhooks_schema() -> dict[str, Any]:
    """JSON Schema of every webhook message type: ``{"type": <name>, "timestamp": ..., "data": <event>}``."""
    from events.webhooks import EVENT_TYPES

    classes = list(dict.fromkeys(cls for event_type in EVENT_TYPES for cls in event_type.events))
    refs, components = msgspec.json.schema_components(classes, ref_template="#/components/schemas/{name}")
    ref_of = dict(zip(classes, refs, strict=True))
    messages = {}
    for event_type in EVENT_TYPES:
        data = [ref_of[cls] for cls in event_type.events]
        messages[event_type.name] = {
            "type": "object",
            "description": f"{event_type.description}; sent to {' and '.join(sorted(event_type.audiences))}s",
            "properties": {
                "type": {"const": event_type.name},
                "timestamp": {"type": "string", "format": "date-time", "description": "when the event was stored"},
                "data": data[0] if len(data) == 1 else {"oneOf": data},
            },
            "required": ["type", "timestamp", "data"],
        }
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Gotong webhook messages",
        "description": "POSTed as JSON with the Standard Webhooks headers webhook-id, webhook-timestamp and "
        "webhook-signature (v1, HMAC-SHA256 of id.timestamp.body under the subscription's whsec_ secret)",
        "messages": messages,
        "components": {"schemas": components},
    }
    normalised: dict[str, Any] = json.loads(json.dumps(document))
    return normalised


def write_documents(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    schema = json_schema()
    paths = [directory / "events.schema.json", directory / "asyncapi.json", directory / "webhooks.schema.json"]
    for path, document in zip(paths, (schema, asyncapi(schema), webhooks_schema()), strict=True):
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return paths


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why ``new`` cannot read what ``old`` described: removed events, removed or changed fields, new required."""
    problems: list[str] = []
    for tag in old["events"]:
        if tag not in new["events"]:
            problems.append(f"event {tag} was removed")
    old_defs, new_defs = old["components"]["schemas"], new["components"]["schemas"]
    for name, old_def in old_defs.items():
        new_def = new_defs.get(name)
        if new_def is None:
            problems.append(f"type {name} was removed")
            continue
        old_props, new_props = old_def.get("properties", {}), new_def.get("properties", {})
        for field, field_schema in old_props.items():
            if field not in new_props:
                problems.append(f"{name}.{field} was removed")
            elif new_props[field] != field_schema:
                problems.append(f"{name}.{field} changed from {field_schema} to {new_props[field]}")
        added_required = set(new_def.get("required", [])) - set(old_def.get("required", []))
        for field in sorted(added_required):
            problems.append(f"{name}.{field} is newly required (give it a default)")
        if old_def.get("enum") and set(old_def["enum"]) - set(new_def.get("enum", [])):
            problems.append(f"{name} lost enum values")
    return problems
