"""Personal API tokens: created and revoked in the UI, shown once, stored as
SHA-256, bearer only (no cookie session), revoke effective at once."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from oims.models import ApiToken

from ..factories import PASSWORD, login


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_create_use_and_revoke_token_in_the_ui(client, cast, db):
    user = cast.proposer
    login(client, user)
    assert client.get("/api/v1/tokens").status_code == 200
    resp = client.post("/api/v1/tokens", data={"name": "社内CRM連携"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    token = re.search(r"(oims_[A-Za-z0-9_\-]{20,})", html).group(1)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:12] and token not in (row.prefix, row.name)
    # Shown once: the list shows the prefix only.
    listing = client.get("/api/v1/tokens").get_data(as_text=True)
    assert token not in listing and row.prefix in listing and "社内CRM連携" in listing

    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/proposals", headers=headers).status_code == 200
    db.session.refresh(row)
    assert row.last_used_at is not None

    resp = client.post(f"/api/v1/tokens/{row.id}/revoke")
    assert resp.status_code == 302
    _problem(client.get("/api/v1/proposals", headers=headers), 401)  # at once


def test_token_name_is_required(client, cast):
    login(client, cast.proposer)
    resp = client.post("/api/v1/tokens", data={"name": ""})
    assert resp.status_code == 400 and "oims_" not in resp.get_data(as_text=True)


def test_cannot_revoke_someone_elses_token(client, cast, token_for, db):
    owner = cast.proposer
    token_for(owner)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    login(client, cast.other_proposer)
    assert client.post(f"/api/v1/tokens/{row.id}/revoke").status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None


def test_token_page_needs_login(client):
    assert client.get("/api/v1/tokens").status_code == 302


def test_cookie_session_is_not_accepted_by_the_api(client, cast):
    login(client, cast.admin)
    body = _problem(client.get("/api/v1/needs"), 401)
    assert "Bearer" in body["detail"]


def test_missing_bad_and_disabled_tokens(client, cast, token_for, db):
    resp = client.get("/api/v1/needs")
    _problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    _problem(client.get("/api/v1/needs", headers={"Authorization": "Bearer oims_nope"}), 401)
    _problem(client.get("/api/v1/needs", headers={"Authorization": "Basic abc"}), 401)
    user = cast.proposer
    token = token_for(user)
    assert client.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    user.status = "disabled"
    db.session.commit()
    _problem(client.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}), 401)


def test_rate_limited_per_token(variant_app, cast, token_for, db):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_API_RATE="3 per minute")
    first, second = token_for(cast.proposer), token_for(cast.other_proposer)
    db.session.commit()
    with app.app_context():
        c = app.test_client()
        h1, h2 = {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}
        assert [c.get("/api/v1/proposals", headers=h1).status_code for _ in range(3)] == [200, 200, 200]
        resp = c.get("/api/v1/proposals", headers=h1)
        assert resp.status_code == 429 and resp.content_type == "application/problem+json"
        assert c.get("/api/v1/proposals", headers=h2).status_code == 200  # its own bucket
        assert c.get("/api/v1/openapi.json").status_code == 200  # the document is not limited


def test_csrf_applies_to_the_token_page_but_not_to_token_calls(variant_app, cast, token_for, db):
    from ..conftest import csrf_token_from

    app = variant_app(WTF_CSRF_ENABLED=True)
    user = cast.proposer
    token = token_for(user)
    with app.app_context():
        c = app.test_client()
        # A bearer-token call needs no CSRF token (and carries no cookie).
        resp = c.post("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"}, json={})
        assert resp.status_code == 422
        html = c.get("/auth/login").get_data(as_text=True)
        c.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token_from(html)})
        page = c.get("/api/v1/tokens")
        assert page.status_code == 200
        assert c.post("/api/v1/tokens", data={"name": "x"}).status_code == 400  # no CSRF token: refused
        resp = c.post("/api/v1/tokens", data={"name": "x", "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        assert resp.status_code == 200 and "oims_" in resp.get_data(as_text=True)
