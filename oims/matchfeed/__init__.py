"""The matcher's app features around the rankings: coordinators' judgments
(feedback that can be exported as qrels), matching-need alerts on publish and
a weekly digest (opt-in, unsubscribe without logging in)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("matchfeed", __name__, url_prefix="/matching")


def init_app(app: Flask) -> None:
    from ..match_bands import BAND_LABELS
    from . import cli  # noqa: F401 - registers `flask oims export-judgments` and `send-digest`

    @app.context_processor
    def inject_bands():
        return {"band_labels": BAND_LABELS}


from . import views  # noqa: F401
