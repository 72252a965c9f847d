"""CSRF on every state-changing form; the API takes bearer tokens only."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from oims.extensions import db as _db

from ..conftest import csrf_token_from
from ..factories import PASSWORD
from .access_rules import RULES
from .harness import UNSAFE, URL_RULES, expected, is_api, world_context
from .world import ROLES, api_token_for


def _unsafe_method(endpoint: str) -> str | None:
    methods = URL_RULES[endpoint].methods & set(UNSAFE)
    return min(methods) if methods else None


POST_ENDPOINTS = sorted(e for e in URL_RULES if e in RULES and _unsafe_method(e) and not is_api(e))


@pytest.fixture(scope="module")
def world(app):
    with world_context(app) as m:
        m.fresh()
        yield m


@pytest.fixture(scope="module")
def csrf_app(app, world, tmp_path_factory):
    from ..conftest import make_app

    new = make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                   WTF_CSRF_ENABLED=True, OIMS_UPLOAD_DIR=app.config["OIMS_UPLOAD_DIR"])
    yield new
    with new.app_context():
        _db.engine.dispose()


def _signed_in(app, world, role):
    """A client of `app` holding `role`'s session (no CSRF token in it yet)."""
    from oims.models import User

    client = app.test_client()
    if role != "anon":
        user = _db.session.get(User, world.world["users"][role])
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
    return client


def _authorised_role(endpoint):
    for role in ROLES:
        if expected(endpoint, role, "own") in ("ok", "ok400"):
            return role
    return None


def test_every_form_post_without_a_token_is_refused(world, csrf_app):
    """Each state-changing page route, by a user allowed to use it, without a
    CSRF token: 400, and never a redirect or success."""
    assert POST_ENDPOINTS, "no POST routes found"
    failures = []
    for endpoint in POST_ENDPOINTS:
        role = _authorised_role(endpoint)
        if role is None:
            continue
        client = _signed_in(csrf_app, world, role)
        url = world.url(endpoint, "own")
        resp = client.open(url, method=_unsafe_method(endpoint), data=world.data(endpoint, "own"))
        if resp.status_code != 400:
            failures.append(f"{endpoint} {url} as {role}: {resp.status_code} {resp.headers.get('Location', '')}")
    assert not failures, "accepted without a CSRF token:\n" + "\n".join(failures)


def test_a_wrong_token_is_refused_too(world, csrf_app):
    client = _signed_in(csrf_app, world, "owner")
    client.get("/auth/settings")  # puts a real token in the session
    resp = client.post("/notifications/read", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    from oims.models import Notification

    unread = _db.session.scalars(select(Notification).where(Notification.user_id == world.world["users"]["owner"]))
    assert unread and {n.read_at for n in unread} == {None}  # nothing was marked read


def test_login_form_needs_its_token(world, csrf_app):
    client = csrf_app.test_client()
    resp = client.post("/auth/login", data={"email": "owner-own@example.jp", "password": PASSWORD})
    assert resp.status_code == 400
    page = client.get("/auth/login").get_data(as_text=True)
    resp = client.post("/auth/login", data={"email": "owner-own@example.jp", "password": PASSWORD,
                                            "csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302 and not urlsplit(resp.headers["Location"]).path.startswith("/auth/login")


def test_api_is_token_only_and_csrf_exempt(world, csrf_app):
    """The API takes no cookie session (so CSRF cannot ride on it) and so needs no CSRF token."""
    from oims.models import User

    client = _signed_in(csrf_app, world, "owner")
    assert client.get("/api/v1/needs").status_code == 401
    assert client.post("/api/v1/needs", json={}).status_code == 401
    token = api_token_for(_db, _db.session.get(User, world.world["users"]["owner"]))
    resp = csrf_app.test_client().post("/api/v1/needs", json={}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422  # validated, not refused for a missing CSRF token
    assert resp.mimetype == "application/problem+json"


