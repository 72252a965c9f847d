"""The JSON API refuses writes by roles that may not make them, even with a
perfectly valid body, and never authenticates by the cookie session."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from oims.models import Need, Proposal

from ..factories import login
from .world import api_token_for


def _auth(db, user):
    return {"Authorization": f"Bearer {api_token_for(db, user)}"}


def _need_body():
    return {"title": "API経由のニーズ", "summary": "概要です。十分な長さの説明文をここに書きます。",
            "partnership_types": ["joint_rnd"], "deadline": (date.today() + timedelta(days=30)).isoformat()}


def _count(db, model):
    return db.session.scalar(select(func.count(model.id)))


def test_only_need_owners_create_needs_by_api(client, db, cast, factory):
    for role in ("proposer", "coordinator", "admin"):
        user = factory.user(role)
        before = _count(db, Need)
        resp = client.post("/api/v1/needs", json=_need_body(), headers=_auth(db, user))
        assert resp.status_code == 403, (role, resp.status_code, resp.get_data(as_text=True)[:300])
        assert _count(db, Need) == before
    owner = cast.owner
    resp = client.post("/api/v1/needs", json=_need_body(), headers=_auth(db, owner))
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]


def test_only_proposers_create_proposals_by_api(client, db, cast, factory):
    need = factory.need()
    body = {"need_id": need.id, "title": "API提案", "summary": "射出成形で軽量化します。", "solution": "金型温度制御"}
    for role in ("need_owner", "coordinator", "admin"):
        user = factory.user(role)
        before = _count(db, Proposal)
        resp = client.post("/api/v1/proposals", json=body, headers=_auth(db, user))
        assert resp.status_code == 403, (role, resp.status_code, resp.get_data(as_text=True)[:300])
        assert _count(db, Proposal) == before
    resp = client.post("/api/v1/proposals", json=body, headers=_auth(db, cast.proposer))
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["title"] == "API提案" and _count(db, Proposal) == before + 1


def test_only_the_owner_and_its_bureau_patch_a_need(client, db, cast, factory):
    need = factory.need()
    original = need.title
    stranger_owner = factory.user("need_owner", prefecture="27")
    proposer = cast.proposer
    other_coord = cast.other_coordinator
    for user in (stranger_owner, proposer, other_coord):
        resp = client.patch(f"/api/v1/needs/{need.id}", json={"title": "書き換え"}, headers=_auth(db, user))
        # A need owner of another firm may see the published need but not change it;
        # a coordinator of another bureau neither.
        assert resp.status_code == 403, (user.role, resp.status_code)
        db.session.refresh(need)
        assert need.title == original


def test_api_ignores_the_cookie_session(client, db, cast):
    owner = cast.owner
    assert login(client, owner).status_code == 302
    assert client.get("/api/v1/needs").status_code == 401
    before = _count(db, Need)
    assert client.post("/api/v1/needs", json=_need_body()).status_code == 401
    assert _count(db, Need) == before
