"""Bad input, handled once at the edge of the application.

* Text: every form field, query parameter, JSON string (keys and values) and
  upload file name passes through `clean_text`, which STRIPS NUL and the other
  C0 control characters except TAB, LF and CR, DEL, and the bidirectional
  controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C). It is done
  by the request class (`OimsRequest`), so no view, form or API endpoint can
  forget it. Lone surrogates in JSON cannot be stored and are REFUSED by the
  API's schema check (422).
* Integers: the `int` URL converter maps anything outside 1..2^63-1 to 0, an
  id no row has, so every view answers 404; `request.args/form.get(name, type=int)` answers
  400 for values outside 0..2^63-1; and any integer outside the 64-bit range
  that still reaches the database driver is refused with 400 before the
  driver sees it (`guard_integer_parameters`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Flask, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_INT = 2**63 - 1
STRIPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean_text(value: str) -> str:
    """`value` without the characters this module strips."""
    return STRIPPED.sub("", value)


def clean_json(value):
    """A parsed JSON value with every string (keys too) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    return value


def _clean_value(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, FileStorage) and value.filename:
        value.filename = clean_text(value.filename)
    return value


class BadInteger(BadRequest):
    description = "A whole number is out of range."


def _bounded_int(raw) -> int:
    value = int(raw)  # ValueError for non-numbers: werkzeug then uses the default
    if not 0 <= value <= MAX_INT:
        raise BadInteger()
    return value


class CleanMultiDict(ImmutableMultiDict):
    """Query strings and form bodies, cleaned once when parsed; `type=int`
    look-ups refuse numbers no database column can hold."""

    def __init__(self, mapping=None):
        items = MultiDict(mapping).items(multi=True) if mapping is not None else []
        super().__init__([(clean_text(k) if isinstance(k, str) else k, _clean_value(v)) for k, v in items])

    def get(self, key, default=None, type=None):
        return super().get(key, default, _bounded_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, _bounded_int if type is int else type)


class OimsRequest(Request):
    parameter_storage_class = CleanMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        return clean_json(super().get_json(force=force, silent=silent, cache=cache))


NO_ID = 0  # no row has it: ids start at 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: digits only; a number outside 1..2^63-1
    becomes NO_ID, which no row has, so the view answers its usual 404 (and
    no id reaches the database that it cannot hold). Mapping instead of
    refusing keeps every rule of the path matching, so a PATCH to
    /api/v1/needs/0 is a 404 like the GET, not a 405 (werkzeug would report
    the method of another rule whose converter accepted the value)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if 1 <= number <= MAX_INT else NO_ID


def _out_of_range(params) -> bool:
    if isinstance(params, Mapping):
        params = params.values()
    elif not isinstance(params, (list, tuple)):
        return False
    for p in params:
        if isinstance(p, (list, tuple, Mapping)):
            if _out_of_range(p):
                return True
        elif isinstance(p, int) and not isinstance(p, bool) and not -MAX_INT - 1 <= p <= MAX_INT:
            return True
    return False


def guard_integer_parameters(conn, cursor, statement, parameters, context, executemany) -> None:
    """The last line: an integer the driver would overflow on is a bad request."""
    if parameters and _out_of_range(parameters):
        raise BadInteger()


_guard_installed = False


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (converters bind at add_url_rule)."""
    global _guard_installed
    app.request_class = OimsRequest
    app.url_map.converters["int"] = IdConverter
    if not _guard_installed:
        event.listen(Engine, "before_cursor_execute", guard_integer_parameters)
        _guard_installed = True
