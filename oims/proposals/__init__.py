"""Proposals: SMEs, universities, institutes and startups answer published needs.

Views in `views.py`, the rules in `services.py`, the timestamped receipt in
`receipts.py`; stage transitions go through `oims.workflow.change_stage`.
"""

from flask import Blueprint

bp = Blueprint("proposals", __name__, url_prefix="/proposals")

from . import views  # noqa: F401


def init_app(app) -> None:
    from . import dashboard  # noqa: F401 - registers the dashboard panels

