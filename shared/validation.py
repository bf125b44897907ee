"""Request bodies: strict JSON (duplicate keys refused, nesting bounded) and validation that reports every bad field,
NUL characters and decimals that are not plain ones included."""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from shared.bounds import shape_of
from shared.kernel.choices import explain, type_at
from shared.kernel.errors import FieldError, InvalidInput, MalformedRequest

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")

MAX_DEPTH = 64
"""How deep arrays and objects may nest in a body; no request needs more than a handful of levels."""

NUL_MESSAGE = "must not contain NUL characters (\\u0000)"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
SURROGATE_MESSAGE = "must not contain a lone UTF-16 surrogate (\\ud800 to \\udfff); send valid Unicode"


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedRequest(f"duplicate key {key!r} in JSON object", field=key)
        result[key] = value
    return result


def _number(literal: str) -> Decimal | float:
    """A JSON number with a fraction keeps its exact value as a ``Decimal``; one written with an exponent stays a
    float, so a decimal field can tell it was not written plainly."""
    return float(literal) if "e" in literal or "E" in literal else Decimal(literal)


def _too_deep() -> MalformedRequest:
    return MalformedRequest(f"the body nests arrays and objects more than {MAX_DEPTH} levels deep; at most {MAX_DEPTH}")


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, refusing malformed JSON, objects with duplicate keys and nesting beyond ``MAX_DEPTH``."""
    try:
        value = json.loads(body, object_pairs_hook=_refuse_duplicates, parse_constant=_no_constant, parse_float=_number)
    except MalformedRequest:
        raise
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequest(f"the body is not valid JSON: {error}") from error
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        pending.extend((child, depth + 1) for child in children)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = _UNSTORABLE.sub(lambda c: f"\\u{ord(c.group()):04x}", key)
    return f"{path}.{key}" if path else key


def _unstorable(text: str) -> str | None:
    """Why PostgreSQL could not store ``text`` (a NUL character, or half of a UTF-16 surrogate pair), if so."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def character_errors(value: Any, path: str = "") -> list[FieldError]:
    """Every string (value or key) holding a character text and jsonb columns cannot store."""
    errors: list[FieldError] = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        node, where = pending.pop()
        if isinstance(node, str):
            if reason := _unstorable(node):
                errors.append(FieldError(where or "body", reason))
        elif isinstance(node, dict):
            for key in node:
                if reason := _unstorable(key):
                    errors.append(FieldError(_join(where, key), reason))
            pending.extend((child, _join(where, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend((child, _join(where, index)) for index, child in reversed(list(enumerate(node))))
    return errors


def check_parameters(path: Mapping[str, Any], query: Iterable[tuple[str, str]]) -> None:
    """Refuse (422) path and query parameters holding a character PostgreSQL cannot store, naming each."""
    reasons: dict[str, str] = {}
    for name, value in [*path.items(), *query]:
        if isinstance(value, str) and (reason := _unstorable(value) or _unstorable(name)):
            reasons.setdefault(name, reason)
    if reasons:
        raise InvalidInput([FieldError(_join("", name), reason) for name, reason in reasons.items()])


def _message(error: msgspec.ValidationError, path: str, target: Any) -> FieldError:
    text = str(error)
    match = _AT.search(text)
    sub = ""
    if match:
        text = text[: match.start()]
        sub = match.group("path")
        path = path + sub if sub.startswith("[") or not path else f"{path}{sub}"
        path = path.lstrip(".")
    return FieldError(path or "body", explain(text, type_at(target, sub)))


def _unwrap(target: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type inside ``Annotated`` and the metadata around it."""
    metadata: tuple[Any, ...] = ()
    while typing.get_origin(target) is typing.Annotated:
        metadata += target.__metadata__
        target = typing.get_args(target)[0]
    return target, metadata


def _arms(target: Any) -> tuple[Any, ...]:
    """The types of a union other than None and UNSET (a union's arm is checked like a field of its own)."""
    if typing.get_origin(target) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(target) if a not in (type(None), msgspec.UnsetType))
    return ()


def _items(value: Any, target: Any) -> list[tuple[Any, Any, str | int]]:
    """A list's or a map's values with their declared type and their index or key."""
    origin = typing.get_origin(target)
    args = typing.get_args(target)
    homogeneous = args and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis))
    if origin in (list, tuple, set, frozenset) and isinstance(value, list) and homogeneous:
        return [(item, args[0], index) for index, item in enumerate(value)]
    if origin in (dict, Mapping) and isinstance(value, dict) and len(args) == 2:
        return [(item, args[1], key) for key, item in value.items()]
    return []


def _key_errors(value: Any, target: Any, path: str) -> list[FieldError]:
    """A map's keys that its key type refuses, each named by its path (``months.next``)."""
    args = typing.get_args(target)
    if typing.get_origin(target) not in (dict, Mapping) or not isinstance(value, dict) or len(args) != 2:
        return []
    errors: list[FieldError] = []
    for key in value:
        try:
            msgspec.convert(key, args[0])
        except msgspec.ValidationError as error:
            errors.append(FieldError(_join(path, key), _AT.sub("", str(error))))
    return errors


@functools.cache
def _struct_has_shapes(struct: type[msgspec.Struct]) -> bool:
    return any(_has_shapes(f.type, frozenset({struct})) for f in msgspec.structs.fields(struct))


def _has_shapes(target: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Does ``target`` hold a decimal with a shape anywhere (so a value msgspec accepts still needs a look)?"""
    inner, metadata = _unwrap(target)
    if shape_of(metadata) is not None:
        return True
    if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
        if inner in seen:
            return False
        return (
            _struct_has_shapes(inner)
            if not seen
            else any(_has_shapes(f.type, seen | {inner}) for f in msgspec.structs.fields(inner))
        )
    return any(_has_shapes(arg, seen) for arg in typing.get_args(inner) if arg is not Ellipsis)


def collect_errors(value: Any, target: Any, path: str = "") -> list[FieldError]:
    """Every reason ``value`` (as ``parse_json`` returns it) does not convert to ``target``, each with its path."""
    inner, metadata = _unwrap(target)
    shape = shape_of(metadata)
    if shape is not None:
        return [] if shape.admits(value) else [FieldError(path or "body", f"must be {shape.rule}")]
    arms = _arms(inner)
    if arms:
        if value is None and type(None) in typing.get_args(inner):
            return []
        if len(arms) == 1:
            return collect_errors(value, arms[0], path)
    try:
        msgspec.convert(value, target)
    except msgspec.ValidationError as error:
        first: FieldError | None = _message(error, path, target)
    else:
        if not _has_shapes(target):
            return []
        first = None
    errors: list[FieldError] = []
    if isinstance(inner, type) and issubclass(inner, msgspec.Struct) and isinstance(value, dict):
        info = msgspec.structs.fields(inner)
        for field in info:
            if field.encode_name in value:
                errors.extend(collect_errors(value[field.encode_name], field.type, _join(path, field.encode_name)))
            elif field.required:
                errors.append(FieldError(_join(path, field.encode_name), "is required"))
        if inner.__struct_config__.forbid_unknown_fields:
            known = {f.encode_name for f in info}
            errors.extend(FieldError(_join(path, k), "is not a known field") for k in value if k not in known)
    for item, item_type, key in _items(value, inner):
        errors.extend(collect_errors(item, item_type, _join(path, key)))
    errors.extend(_key_errors(value, inner, path))
    return errors if errors or first is None else [first]


def decode_body(body: bytes, target: Any) -> Any:
    """Decode a JSON body as ``target`` or raise: 400 for malformed or too deeply nested JSON, 422 listing every
    bad field (NUL characters and decimals that are not plain ones included)."""
    parsed = parse_json(body)
    errors = character_errors(parsed)
    try:
        decoded = msgspec.json.decode(body, type=target)
    except msgspec.ValidationError as error:
        errors += [e for e in collect_errors(parsed, target) if e not in errors] or [_message(error, "", target)]
        raise InvalidInput(errors) from None
    except msgspec.DecodeError as error:  # what Python's parser takes and msgspec's does not, e.g. a lone surrogate
        if errors:
            raise InvalidInput(errors) from None
        raise MalformedRequest(f"the body is not valid JSON: {error}") from None
    if _has_shapes(target):
        errors += collect_errors(parsed, target)
    if errors:
        raise InvalidInput(errors)
    return decoded
