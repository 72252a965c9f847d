from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

from . import views  # noqa: F401
