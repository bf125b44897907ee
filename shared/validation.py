"""Request bodies: strict JSON (duplicate keys refused) and validation that reports every bad field."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import msgspec

from shared.choices import explain, type_at
from shared.errors import FieldError, InvalidInput, MalformedRequest

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedRequest(f"duplicate key {key!r} in JSON object", field=key)
        result[key] = value
    return result


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, refusing malformed JSON and objects with duplicate keys."""
    try:
        return json.loads(body, object_pairs_hook=_refuse_duplicates, parse_constant=_no_constant)
    except MalformedRequest:
        raise
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequest(f"the body is not valid JSON: {error}") from error


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


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


def collect_errors(value: Any, target: Any, path: str = "") -> list[FieldError]:
    """Every reason ``value`` does not convert to ``target``, each with its field path."""
    try:
        msgspec.convert(value, target)
        return []
    except msgspec.ValidationError as error:
        first = _message(error, path, target)
    errors: list[FieldError] = []
    while typing.get_origin(target) is typing.Annotated:
        target = typing.get_args(target)[0]
    origin = typing.get_origin(target)
    if isinstance(target, type) and issubclass(target, msgspec.Struct) and isinstance(value, dict):
        info = msgspec.structs.fields(target)
        known = {f.encode_name for f in info}
        for field in info:
            if field.encode_name not in value:
                if field.required:
                    errors.append(FieldError(_join(path, field.encode_name), "is required"))
                continue
            errors.extend(collect_errors(value[field.encode_name], field.type, _join(path, field.encode_name)))
        if target.__struct_config__.forbid_unknown_fields:
            errors.extend(FieldError(_join(path, k), "is not a known field") for k in value if k not in known)
    elif origin in (list, tuple, set, frozenset) and isinstance(value, list):
        args = typing.get_args(target)
        if args and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)):
            for index, item in enumerate(value):
                errors.extend(collect_errors(item, args[0], _join(path, index)))
    return errors or [first]


def decode_body(body: bytes, target: Any) -> Any:
    """Decode a JSON body as ``target`` or raise: 400 for malformed JSON, 422 listing every bad field."""
    parsed = parse_json(body)
    try:
        return msgspec.json.decode(body, type=target)
    except msgspec.ValidationError:
        raise InvalidInput(collect_errors(parsed, target)) from None
