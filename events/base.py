"""What every Gotong event is: a frozen, tagged, versioned msgspec struct."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of all events. A subclass's tag is ``<service>.<EventType>.v<version>``."""


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def event_tag(event_class: type[Event]) -> str:
    tag = msgspec.inspect.type_info(event_class)
    assert isinstance(tag, msgspec.inspect.StructType) and isinstance(tag.tag, str)
    return tag.tag


def split_tag(tag: str) -> tuple[str, str, int]:
    """``"catalog.MsmeRegistered.v2"`` → ``("catalog", "MsmeRegistered", 2)``."""
    service, name, version = tag.split(".")
    return service, name, int(version.removeprefix("v"))


def event_names(*event_classes: type[Event]) -> frozenset[str]:
    """The event types the store records these classes' events under (any version of each)."""
    return frozenset(split_tag(event_tag(cls))[1] for cls in event_classes)


class UnknownEvent(ValueError):
    """A stored event whose type and version this codebase cannot read."""


class EventCodec:
    """Encodes a service's events and decodes stored ones, upcasting older versions.

    ``upcasters`` maps ``(event_type, version)`` to a function turning that version's JSON object into the
    next version's; chains run until the current version is reached.
    """

    def __init__(self, service: str, union: Any, upcasters: Mapping[tuple[str, int], Upcaster] | None = None):
        self.service = service
        self.union = union
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(union)
        self._encoder = msgspec.json.Encoder()
        self._upcasters = dict(upcasters or {})
        members = union.__args__ if hasattr(union, "__args__") else (union,)
        self.classes: dict[str, type[Event]] = {}
        self._current: dict[str, int] = {}
        self._names: dict[type[Event], tuple[str, int]] = {}
        for cls in members:
            owner, name, version = split_tag(event_tag(cls))
            if owner != service:
                raise ValueError(f"{cls.__name__} is tagged for {owner}, not {service}")
            self.classes[name] = cls
            self._current[name] = version
            self._names[cls] = (name, version)

    def name_of(self, event: Event) -> tuple[str, int]:
        return self._names[type(event)]

    def encode(self, event: Event) -> bytes:
        return self._encoder.encode(event)

    def decode(self, name: str, version: int, data: bytes | str) -> Event:
        current = self._current.get(name)
        if current is None:
            raise UnknownEvent(f"{self.service} has no event {name}")
        if version == current:
            event: Event = self._decoder.decode(data)
            return event
        if version > current:
            raise UnknownEvent(f"{self.service}.{name}.v{version} is newer than this code (v{current})")
        raw: dict[str, Any] = msgspec.json.decode(data)
        while version < current:
            upcast = self._upcasters.get((name, version))
            if upcast is None:
                raise UnknownEvent(f"no upcaster for {self.service}.{name}.v{version}")
            raw = upcast(raw)
            version += 1
        raw["type"] = f"{self.service}.{name}.v{current}"
        upcasted: Event = msgspec.convert(raw, self.union)
        return upcasted
