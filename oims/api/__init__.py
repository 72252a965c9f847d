"""JSON API /api/v1 (token auth only), its OpenAPI document and docs page,
and the page where users manage their personal API tokens."""

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import auth, docs, tokens, views  # noqa: F401


def init_app(app: Flask) -> None:
    from ..extensions import csrf

    # The API reads no cookie session, only bearer tokens, so cross-site
    # request forgery has nothing to ride on. The token pages (HTML forms in
    # this blueprint) validate their CSRF token through Flask-WTF forms.
    csrf.exempt(bp)


# One rate limit for every endpoint of the blueprint, counted per token
# (OIMS_API_RATE); the docs and token pages are exempt.
auth.rate_limited(bp)
