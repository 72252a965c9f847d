"""Accounts: off-boarding (disable/re-enable users and organisations, sign out
everywhere), a person's data export and deletion (pseudonymisation)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import views  # noqa: F401
