"""Bulk import of organisations and capability profiles (CSV / Excel), by
coordinators on a page with a dry-run report and a progress page, or by
`flask oims import-orgs` on the command line."""

from flask import Blueprint, Flask

bp = Blueprint("imports", __name__, url_prefix="/imports")

from . import views  # noqa: F401 - routes


def init_app(app: Flask) -> None:
    from ..cli import oims_cli
    from .cli import import_orgs_command

    oims_cli.add_command(import_orgs_command)
