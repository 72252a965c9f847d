"""A case that reached its first meeting: owner, proposer, Kanto coordinator,
Kinki coordinator; and a helper to sign in as any of them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from oims.models import Meeting, ProposalEvent
from oims.models.base import utcnow

from ..factories import login


@pytest.fixture
def case(db, factory):
    owner = factory.user("need_owner", name="所有者 太郎")
    proposer = factory.user("proposer", name="提案 花子")
    coordinator = factory.user("coordinator", name="関東 調整")
    other_coord = factory.user("coordinator", prefecture="27", name="近畿 調整")
    need = factory.need(owner=owner)
    proposal = factory.proposal(need, proposer=proposer, stage="met", owner_disclosed=True)
    held_at = utcnow() - timedelta(weeks=3)
    meeting = Meeting(proposal_id=proposal.id, proposed_by_id=owner.id, status="held", starts_at=held_at,
                      ends_at=held_at + timedelta(hours=1), uid="h8-test")
    db.session.add(meeting)
    db.session.add(ProposalEvent(proposal_id=proposal.id, from_stage="meeting_scheduled", to_stage="met",
                                 actor_id=owner.id))
    db.session.commit()
    return SimpleNamespace(owner=owner, proposer=proposer, coordinator=coordinator, other_coord=other_coord,
                           need=need, proposal=proposal, meeting=meeting, factory=factory)


@pytest.fixture
def signed_in(app):
    def make(user):
        client = app.test_client()
        assert login(client, user).status_code == 302
        return client
    return make
