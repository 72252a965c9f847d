"""Checking request JSON against the OpenAPI request schemas (the subset of
JSON Schema they use), before any service sees it. Services then apply the
business rules; this only guarantees types and sizes, with a message per field.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from oims.api.schemas import MAX_ID, SCHEMAS


def bad_text(value: str) -> bool:
    """NUL characters and lone surrogates cannot be stored (PostgreSQL refuses them)."""
    return any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value)


def _type_ok(value, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return False


def _type_names() -> dict[str, str]:
    return {"string": _("a string"), "integer": _("a whole number"), "number": _("a number"),
            "boolean": _("true or false"), "array": _("a list"), "object": _("an object"), "null": _("null")}


def _check(value, schema: dict, path: str, errors: dict[str, list[str]]) -> None:
    def err(message: str) -> None:
        errors.setdefault(path, []).append(message)

    kinds = schema.get("type")
    if kinds:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_type_ok(value, k) for k in kinds):
            names = _type_names()
            err(_("Must be %(kind)s.", kind=" / ".join(names[k] for k in kinds)))
            return
    if isinstance(value, str):
        _check_string(value, schema, err)
    if "enum" in schema and value not in schema["enum"]:
        err(_("Must be one of: %(values)s.", values=", ".join(map(str, schema["enum"]))))
    in_range = schema.get("minimum", -MAX_ID) <= value <= schema.get("maximum", MAX_ID) \
        if isinstance(value, int) and not isinstance(value, bool) else True
    if not in_range:
        err(_("Out of range."))
    if isinstance(value, list):
        _check_list(value, schema, path, errors, err)
    if isinstance(value, dict):
        _check_object(value, schema, errors, err)


def _check_string(value: str, schema: dict, err) -> None:
    if bad_text(value):
        err(_("Contains characters that cannot be stored."))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        err(_("At most %(max)d characters (now %(n)d).", max=schema["maxLength"], n=len(value)))
    if "minLength" in schema and len(value) < schema["minLength"]:
        err(_("This field is required."))
    if schema.get("format") == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            err(_("Enter a date as YYYY-MM-DD."))


def _check_list(value: list, schema: dict, path: str, errors: dict[str, list[str]], err) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        err(_("At most %(max)d items.", max=schema["maxItems"]))
    if "minItems" in schema and len(value) < schema["minItems"]:
        err(_("At least %(min)d items.", min=schema["minItems"]))
    for item in value:
        _check(item, schema.get("items", {}), path, errors)


def _check_object(value: dict, schema: dict, errors: dict[str, list[str]], err) -> None:
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            errors.setdefault(key, []).append(_("This field is required."))
    if schema.get("minProperties") and len(value) < schema["minProperties"]:
        err(_("Give at least one field."))
    for key, item in value.items():
        if key in props:
            _check(item, props[key], key, errors)
        elif schema.get("additionalProperties") is False:
            errors.setdefault(key, []).append(_("Unknown field."))


def validate(body, schema_name: str) -> dict[str, list[str]]:
    """Errors per field ("" for the body as a whole); empty when valid."""
    errors: dict[str, list[str]] = {}
    _check(body, SCHEMAS[schema_name], "", errors)
    return errors
