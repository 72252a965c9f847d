"""Needs: large firms' partner needs, their review, publication and search."""

from flask import Blueprint, Flask

bp = Blueprint("needs", __name__, url_prefix="/needs")

from . import panels, views  # noqa: F401


def init_app(app: Flask) -> None:
    from ..cli import oims_cli
    from .cli import close_needs_command, remind_deadlines_command

    oims_cli.add_command(remind_deadlines_command)
    oims_cli.add_command(close_needs_command)
