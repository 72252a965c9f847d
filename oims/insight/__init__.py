"""Insight: the KPI dashboard, its charts and the CSV exports."""

from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")

from . import dashboard, strength_views, views  # noqa: F401 - routes and the dashboard panel


def init_app(app) -> None:
    from ..cli import oims_cli
    from .cache import register_events
    from .cli import refresh_kpi_command

    register_events()
    oims_cli.add_command(refresh_kpi_command)
