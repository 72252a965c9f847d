"""Audit screens: the trail for staff, owners' views of forwarded proposals,
and (on the proposal page) when the owner first opened a proposal."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from . import views  # noqa: E402,F401 - routes


def init_app(app) -> None:
    from .services import first_owner_view

    app.jinja_env.globals["first_owner_view"] = first_owner_view
