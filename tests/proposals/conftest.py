"""A small marketplace for the proposal tests: one Kanto need with its owner,
two proposers, the Kanto coordinator, a Chubu coordinator and an admin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from oims.models import AuditLog, OutboxMessage, Proposal

from ..factories import login


@pytest.fixture
def world(factory):
    owner = factory.user("need_owner", name="所有者 太郎")
    owner.organisation.name = "東都モビリティ工業株式会社"
    proposer = factory.user("proposer", name="提案 花子", email="alice@example.jp")
    other = factory.user("proposer", name="別社 次郎", email="bob@example.jp")
    coordinator = factory.user("coordinator", name="関東 調整", email="kanto.coord@example.jp")
    elsewhere = factory.user("coordinator", prefecture="23", name="中部 調整", email="chubu.coord@example.jp")
    admin = factory.user("admin", name="管理 者", email="admin@example.jp")
    need = factory.need(owner=owner)
    return SimpleNamespace(owner=owner, proposer=proposer, other=other, coordinator=coordinator,
                           elsewhere=elsewhere, admin=admin, need=need, factory=factory)


@pytest.fixture
def as_user(client):
    """Switch the signed-in user: as_user(user). The first switch signs in
    through the login form; later ones put the user into the session cookie
    as Flask-Login does (many role switches per test, kept fast)."""
    state = {"logged_in": False}

    def switch(user):
        if not state["logged_in"]:
            resp = login(client, user)
            assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
            state["logged_in"] = True
            return client
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return switch


def proposal_form(**overrides) -> dict:
    data = {
        "title": "真空ダイカストによる一体成形の提案",
        "summary": "下部フレームをアルミ一体成形品に置き換え、約25％の軽量化を提案します。",
        "solution": "冷却水路を一体化し、溶接箇所を約60％削減します。",
        "track_record": "モーターハウジングを年間8万個量産中。",
        "team": "設計2名・解析1名",
        "schedule": "試作4か月",
        "cost": "約1,200万円",
        "answered_other": "量産体制",
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def proposals_of(db, org_id) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.org_id == org_id).order_by(Proposal.id)))


def outbox_to(db, email) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == email)
                                   .order_by(OutboxMessage.id)))


def audits(db, action) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
