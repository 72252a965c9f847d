"""Follow-up after the first meeting: check-ins 2, 6 and 12 weeks after a
held meeting, sent by `flask oims send-checkins` (cron), answered by either
party from a signed e-mail link; unanswered ones surface as stalled cases."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("checkins", __name__, url_prefix="/checkin")


def init_app(app: Flask) -> None:
    from . import cli  # noqa: F401 - registers `flask oims send-checkins`
    from .services import answer_labels, case_checkins, unanswered_checkins

    app.jinja_env.globals["unanswered_checkins"] = unanswered_checkins
    app.jinja_env.globals["case_checkins"] = case_checkins
    app.jinja_env.globals["checkin_answer_labels"] = answer_labels


from . import views  # noqa: F401
