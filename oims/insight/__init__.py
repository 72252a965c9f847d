"""Insight: the KPI dashboard, its charts and the CSV exports."""

from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")

from . import dashboard, views  # noqa: F401 - routes and the dashboard panel
