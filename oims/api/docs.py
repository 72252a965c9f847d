"""The OpenAPI document and a browsable page generated from it (server
rendered: no external script, so the normal Content-Security-Policy holds)."""

from __future__ import annotations

import json

from flask import jsonify, make_response, render_template, url_for

from ..security import CSP
from . import bp
from .openapi import build_spec

METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict:
    return build_spec(url_for("api.openapi_json", _external=True).rsplit("/openapi.json", 1)[0])


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(_spec())


def _schema_name(schema: dict | None) -> str:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


@bp.get("/docs")
def docs():
    spec = _spec()
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
