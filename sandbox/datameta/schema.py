"""The OpenAPI layer in front of DataMeta's views: request bodies and query strings.

The real server validates every request against its own ``openapi.yaml`` (a verbatim copy
sits next to this module) before any view runs, and reports problems in jsonschema's
words (notes-datameta.md §9):

* a missing property: ``'label' is a required property`` with the quirky ``field`` made of
  *all* required properties joined by ``/`` (#20, #32);
* unexpected properties: ``Additional properties are not allowed ('size' was unexpected)``
  without a field (#29);
* a wrong content type: ``MediaTypeNotFound``; malformed JSON: ``DeserializeError``.

Only the keywords DataMeta's schemas use are implemented.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.http import HttpRequest
from django.utils import timezone

from .responses import ApiError, error_list

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "number": (int, float),
}


@cache
def spec() -> dict[str, Any]:
    with SPEC_PATH.open() as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def component(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec()["components"]["schemas"][name]
    return schema


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return component(ref.rsplit("/", 1)[1]) if ref else schema


def schema_errors(schema: dict[str, Any], value: Any, path: tuple[str, ...] = ()) -> list[dict]:
    """jsonschema-style errors for ``value``, in the order the schema lists its keywords."""
    schema = _resolve(schema)
    if value is None and schema.get("nullable"):
        return []
    expected = schema.get("type")
    if expected:
        ok = isinstance(value, TYPES[expected]) and not (
            expected in ("integer", "number") and isinstance(value, bool)
        )
        if not ok:
            return [_item(f"{value!r} is not of type {expected!r}", "/".join(path) or None)]
    errors: list[dict] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name in value:
                errors += schema_errors(sub, value[name], (*path, name))
        required = schema.get("required", [])
        errors += [
            _item(f"{name!r} is a required property", "/".join(required))
            for name in required
            if name not in value
        ]
        if schema.get("additionalProperties") is False:
            extras = [name for name in value if name not in properties]
            if extras:
                verb = "was" if len(extras) == 1 else "were"
                listed = ", ".join(repr(name) for name in extras)
                errors.append(
                    _item(f"Additional properties are not allowed ({listed} {verb} unexpected)")
                )
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(schema["items"], item, (*path, str(index)))
    return errors


def _item(message: str, field: str | None = None) -> dict[str, Any]:
    # The OpenAPI layer orders keys exception, message, field (#7), unlike DataMeta's own.
    item: dict[str, Any] = {"exception": "ValidationError", "message": message}
    if field:
        item["field"] = field
    return item


def json_body(request: HttpRequest, schema_name: str) -> dict[str, Any]:
    """The request's JSON body, validated against ``components.schemas[schema_name]``."""
    content_type = request.content_type or ""
    raw = request.body
    if content_type != "application/json" and (raw or content_type):
        message = (
            f"Content for the following mimetype not found: {content_type}. "
            "Valid mimetypes: ['application/json']"
        )
        raise ApiError(error_list([{"exception": "MediaTypeNotFound", "message": message}]))
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        message = f"Failed to deserialize value {raw!r} with style application/json"
        raise ApiError(
            error_list([{"exception": "DeserializeError", "message": message}])
        ) from None
    errors = schema_errors(component(schema_name), body)
    if errors:
        raise ApiError(error_list(errors))
    return body


def query_datetime(request: HttpRequest, name: str) -> datetime | None:
    """A ``format: date-time`` query parameter; naive values are taken as server time (#74)."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    value: datetime | None = None
    if "T" in raw.upper():
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None:
        raise ApiError(error_list([_item(f"{raw!r} is not a 'date-time'")]))
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def query_int(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(error_list([_item(f"{raw!r} is not of type 'integer'")])) from None


def query_bool(request: HttpRequest, name: str) -> bool:
    raw = request.GET.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise ApiError(error_list([_item(f"{raw!r} is not of type 'boolean'")]))
    return raw == "true"
