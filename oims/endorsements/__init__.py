"""Endorsed capabilities: support bodies (公設試, 商工会議所, 金融機関,
universities' industry-liaison offices, the bureau) vouch for one capability
on an organisation's profile; badges show on profiles, ranked lists and
recommendations; a coordinator decides which organisations may endorse."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("endorsements", __name__, url_prefix="/endorsements")


def init_app(app: Flask) -> None:
    from ..timeutil import today_local
    from .services import endorsed, endorser_kind

    app.jinja_env.globals["endorsed"] = endorsed
    app.jinja_env.globals["endorser_kind"] = endorser_kind
    app.jinja_env.globals.setdefault("today_local", today_local)


from . import views  # noqa: F401
