"""Fairness of need owners, seen by proposers: after a decision on its
proposal, the proposer rates how the owner dealt with it (clear reason, on
time, respectful; 1–5 each, once per proposal); the averages show as a badge
on named needs once the owner has at least five ratings."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("ratings", __name__, url_prefix="/ratings")


def init_app(app: Flask) -> None:
    from .services import owner_fairness, rating_state

    app.jinja_env.globals["owner_fairness"] = owner_fairness
    app.jinja_env.globals["rating_state"] = rating_state


from . import views  # noqa: F401
