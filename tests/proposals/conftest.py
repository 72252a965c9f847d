"""The proposal tests: the shared cast (tests/cast.py) with one published need
of the cast's owner, a valid proposal form and small query helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oims.models import AuditLog, OutboxMessage, Proposal


@pytest.fixture
def need(cast, factory):
    """A published Kanto need of the cast's owner (東都モビリティ工業, 30 days to its deadline)."""
    return factory.need(owner=cast.owner)


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
