"""A case that reached its first meeting, between the shared cast's owner and proposer."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from oims.models import Meeting
from oims.models.base import utcnow


@pytest.fixture
def case(db, cast, factory):
    """The cast's proposer met the cast's owner three weeks ago about one of its
    needs (stage `met`, a held meeting); the Kanto coordinator follows the case."""
    need = factory.need(owner=cast.owner)
    proposal = factory.proposal(need, proposer=cast.proposer, stage="met", owner_disclosed=True)
    held_at = utcnow() - timedelta(weeks=3)
    meeting = Meeting(proposal_id=proposal.id, proposed_by_id=cast.owner.id, status="held", starts_at=held_at,
                      ends_at=held_at + timedelta(hours=1), uid="casework-test")
    db.session.add(meeting)
    db.session.commit()
    return SimpleNamespace(need=need, proposal=proposal, meeting=meeting)
