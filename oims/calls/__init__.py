"""Themed calls: a bureau or a partner support body runs a time-boxed call
grouping published needs of several owners, with a public page, a deadline
and the call's KPI for those who run it."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("calls", __name__, url_prefix="/calls")


def init_app(app: Flask) -> None:
    from .services import open_calls

    app.jinja_env.globals["open_calls"] = open_calls


from . import views  # noqa: F401
