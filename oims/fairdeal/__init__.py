"""Fair dealing built in: the key terms of a case's NDA and PoC recorded by
the parties, warnings on the patterns the METI/JFTC guideline for startup
collaboration flags, and private reports of problems to the bureau."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("fairdeal", __name__, url_prefix="/fair-dealing")


def init_app(app: Flask) -> None:
    from .views import case_panel

    app.jinja_env.globals["fairdeal_panel"] = case_panel


from . import views  # noqa: F401
