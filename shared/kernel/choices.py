"""The allowed values of an enumerated field, so a refusal can say them ("must be one of: PCE, KGM, MTR").

msgspec and Litestar word a value outside an enum or a ``Literal`` as ``Invalid enum value 'XYZ'``; bodies
(``shared.validation``) and query strings (``shared.problems``) both pass that message through ``explain``
with the type the value was read as.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from typing import Any

import msgspec

_INVALID = re.compile(r"^Invalid enum value (?P<value>.+)$")
_STEP = re.compile(r"\.(?P<name>[^.\[]+)|\[(?P<index>[^\]]*)\]")
_MAX_LISTED = 40


def _strip(target: Any) -> Any:
    while typing.get_origin(target) is typing.Annotated:
        target = typing.get_args(target)[0]
    return target


def _members(target: Any) -> list[Any]:
    """The alternatives of a union (``X | None``), or the type itself."""
    target = _strip(target)
    if typing.get_origin(target) in (typing.Union, types.UnionType):
        return [_strip(t) for t in typing.get_args(target)]
    return [target]


def allowed(target: Any) -> list[str] | None:
    """The values an enum or ``Literal`` type (or an optional one, or a list of one) accepts, else None."""
    values: list[str] = []
    for member in _members(target):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, enum.Enum):
            values.extend(str(m.value) for m in member)
        elif origin is typing.Literal:
            values.extend(str(v) for v in typing.get_args(member))
        elif origin in (list, set, frozenset, tuple) and typing.get_args(member):
            inner = allowed(typing.get_args(member)[0])
            values.extend(inner or [])
    return values or None


def type_at(target: Any, path: str) -> Any:
    """The type found at a msgspec error path (``.lines[0].unit``) inside ``target``, or None if unknown."""
    for step in _STEP.finditer(path):
        found: Any = None
        for member in _members(target):
            origin = typing.get_origin(member)
            args = typing.get_args(member)
            if step.group("name") is not None:
                if isinstance(member, type) and issubclass(member, msgspec.Struct):
                    fields = {f.encode_name: f.type for f in msgspec.structs.fields(member)}
                    found = fields.get(step.group("name"))
            elif origin in (list, set, frozenset) and args:
                found = args[0]
            elif origin is tuple and args:
                index = step.group("index")
                found = args[0] if args[-1] is Ellipsis or not index.isdigit() else args[min(int(index), len(args) - 1)]
            elif origin is dict and len(args) == 2:
                found = args[1]
            if found is not None:
                break
        if found is None:
            return None
        target = found
    return target


def explain(message: str, target: Any) -> str:
    """``Invalid enum value 'XYZ'`` read as ``target`` becomes ``'XYZ' is not allowed; must be one of: …``."""
    match = _INVALID.match(message)
    if match is None:
        return message
    values = allowed(target) if target is not None else None
    if not values:
        return f"{match.group('value')} is not one of the allowed values"
    listed = ", ".join(values[:_MAX_LISTED]) + (", …" if len(values) > _MAX_LISTED else "")
    return f"{match.group('value')} is not allowed; must be one of: {listed}"
