import pytest


@pytest.fixture(autouse=True)
def _limiter_follows_this_app(app):
    """The limiter object is shared by every app of the process and a
    variant_app(RATELIMIT_ENABLED=True) elsewhere in the run switches it on
    for all; these tests sign in often, so follow the session app's setting."""
    from oims.extensions import limiter

    before = limiter.enabled
    limiter.enabled = app.config["RATELIMIT_ENABLED"]
    yield
    limiter.enabled = before
