"""Error pages (HTML, both languages) and RFC 9457 problem+json for the API."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str = "", **extra):
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def _render(status: int, title: str, detail: str):
    if wants_json():
        return problem(status, title, detail)
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Forbidden"), _("You do not have permission to see or change this.")),
        404: (_("Not found"), _("The page or item does not exist, or you may not see it.")),
        405: (_("Method not allowed"), _("This action is not available here.")),
        413: (_("File too large"), _("The upload is larger than the allowed size.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Server error"), _("Something went wrong on our side. Nothing you sent was half-saved; please try again.")),
    }


def handle_http(exc: HTTPException):
    code = exc.code or 500
    title, detail = _titles().get(code, (exc.name, exc.description or ""))
    response = make_response(_render(code, title, detail))
    if code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # RFC 9110 §15.5.6
    return response


def handle_stale(exc: Exception):
    """A version-checked UPDATE found the row changed by someone else (a
    path with no conflict page of its own): nothing was saved."""
    from .extensions import db

    db.session.rollback()
    return _render(409, _("Changed by someone else"),
                   _("Someone else changed this in the meantime. Nothing was changed; reload the page."))


def handle_csrf(exc: CSRFError):
    return _render(400, _("Form expired"), _("The form's security token is missing or expired. Reload the page and try again."))


def handle_unexpected(exc: Exception):
    from .extensions import db

    db.session.rollback()
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    from flask import current_app

    current_app.logger.exception("Unhandled error")
    return handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(HTTPException, handle_http)
    if not app.testing or app.config.get("OIMS_HANDLE_500_IN_TESTS"):
        app.register_error_handler(Exception, handle_unexpected)
