"""Brokerage fixtures: the matcher-enabled app (a fast packaged encoder, loaded
once per process by `matching.get_encoder`'s cache) and a few helpers."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from oims.extensions import db as _db

FAST_ENCODER = "use"  # multilingual USE: ~0.5 s to load, a few ms a text


@contextmanager
def using(app):
    """Make `app` the current app for the factory and the test client (own db session)."""
    with app.app_context(), app.test_request_context():
        try:
            yield app
        finally:
            _db.session.rollback()
            _db.session.remove()


@pytest.fixture
def matching_app(variant_app, db):
    """Build an app with the real matcher on the suite's database."""

    def build(**overrides):
        overrides.setdefault("OIMS_MATCHING_ENABLED", True)
        overrides.setdefault("OIMS_ENCODER", FAST_ENCODER)
        return variant_app(**overrides)

    return build
