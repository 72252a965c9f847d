"""Coordinator brokerage: matching in the app, recommendations, shortlists,
first meetings and outcomes."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("brokerage", __name__, url_prefix="/brokerage")


def init_app(app: Flask) -> None:
    from .. import matching_service
    from . import cli, panels  # noqa: F401 - registers CLI commands and dashboard panels
    from .highlight import highlight

    matching_service.init_app(app)
    app.jinja_env.filters["highlight"] = highlight


from . import views  # noqa: F401
