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


def _retry_after_seconds() -> int | None:
    """Seconds until the breached rate limit of this request resets."""
    import time

    from oims.extensions import limiter

    try:
        current = limiter.current_limit
        if current is None or not current.breached:
            return None
        return max(1, int(current.reset_at - time.time()))
    except Exception:  # noqa: BLE001 - the store went away: give no time rather than a 500
        return None


def handle_too_many(exc: HTTPException):
    """429 that says when to retry: a Retry-After header, and the time in words."""
    from datetime import timedelta

    from flask_babel import format_time

    from oims.models.base import utcnow

    seconds = _retry_after_seconds()
    title = _("Too many requests")
    if seconds is None:
        detail = _("Please wait a moment and try again.")
    else:
        at = format_time(utcnow() + timedelta(seconds=seconds), "HH:mm:ss")
        if request.endpoint == "auth.login":
            detail = _("Too many failed sign-in attempts. Try again in %(n)d seconds (at %(time)s).",
                       n=seconds, time=at)
        else:
            detail = _("Too many requests. Try again in %(n)d seconds (at %(time)s).", n=seconds, time=at)
    if wants_json():
        response = problem(429, title, detail, **({"retry_after": seconds} if seconds is not None else {}))
    else:
        from flask import make_response

        response = make_response(render_template("errors/error.html", status=429, title=title, detail=detail), 429)
    if seconds is not None:
        response.headers["Retry-After"] = str(seconds)
    return response


def handle_http(exc: HTTPException):
    code = exc.code or 500
    if code == 429:
        return handle_too_many(exc)
    title, detail = _titles().get(code, (exc.name, exc.description or ""))
    response = make_response(_render(code, title, detail))
    if code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # RFC 9110 §15.5.6
    return response


def handle_stale(exc: Exception):
    """A version-checked UPDATE found the row changed by someone else (a
    path with no conflict page of its own): nothing was saved."""
    from oims.extensions import db

    db.session.rollback()
    return _render(409, _("Changed by someone else"),
                   _("Someone else changed this in the meantime. Nothing was changed; reload the page."))


def handle_csrf(exc: CSRFError):
    return _render(400, _("Form expired"), _("The form's security token is missing or expired. Reload the page and try again."))


def handle_unexpected(exc: Exception):
    from oims.extensions import db

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
