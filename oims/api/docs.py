"""The OpenAPI document and a browsable page generated from it (server
rendered: no external script, so the normal Content-Security-Policy holds)."""

from __future__ import annotations

import json

from flask import jsonify, make_response, render_template, request, url_for
from flask_babel import force_locale, gettext

from oims.api.openapi import build_spec
from oims.api.views import bp
from oims.web.security import CSP

METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict:
    return build_spec(url_for("api.openapi_json", _external=True).rsplit("/openapi.json", 1)[0])


TEXT_KEYS = ("summary", "description")


def spec_texts(node) -> list[str]:
    """Every human-readable text of the document (summaries and descriptions), in order."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                out.append(value)
            else:
                out += spec_texts(value)
    elif isinstance(node, list):
        for value in node:
            out += spec_texts(value)
    return out


def localise(node):
    """A copy of the document with its summaries and descriptions in the current
    UI language (the Japanese texts live in oims/translations/ja/parts/h12.po)."""
    if isinstance(node, dict):
        return {k: (gettext(v) if k in TEXT_KEYS and isinstance(v, str) and v else localise(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [localise(v) for v in node]
    return node


@bp.get("/openapi.json")
def openapi_json():
    """English by default (the contract); `?lang=ja` gives the Japanese texts."""
    if request.args.get("lang") == "ja":
        with force_locale("ja"):
            return jsonify(localise(_spec()))
    return jsonify(_spec())


def _schema_name(schema: dict | None) -> str:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


@bp.get("/docs")
def docs():
    spec = localise(_spec())  # follows the UI language
    operations = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            responses = []
            for code, resp in op["responses"].items():
                if "$ref" in resp:
                    resp = spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[-1]]
                content = resp.get("content", {})
                media = next(iter(content), "")
                responses.append({"code": code, "description": resp["description"], "media": media,
                                  "schema": _schema_name(content.get(media, {}).get("schema"))})
            operations.append({"method": method.upper(), "path": path, "op": op,
                               "parameters": shared + op.get("parameters", []),
                               "body": _schema_name(body), "body_required": op.get("requestBody", {}).get("required"),
                               "responses": responses})
    schemas = {name: json.dumps(s, ensure_ascii=False, indent=2)
               for name, s in spec["components"]["schemas"].items()}
    resp = make_response(render_template("api/docs.html", spec=spec, operations=operations, schemas=schemas))
    # The page needs no script at all, so it keeps the strict policy even
    # though oims.security would allow a looser one on this path.
    resp.headers["Content-Security-Policy"] = CSP
    return resp
