"""The proposals demo step: idempotent, consistent histories, valid receipts."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from oims.demo import data as demo_data
from oims.demo import loader as demo
from oims.models import Proposal, ProposalEvent
from oims.models.proposals import OUTCOME_STAGES
from oims.needs.demo import load_demo_needs
from oims.proposals import receipts
from oims.proposals.demo import load_demo_proposals
from oims.proposals.workflow import TRANSITIONS

FORWARDED = {"shortlisted", "meeting_requested", "meeting_scheduled", "met", *OUTCOME_STAGES}


def test_demo_proposals(db):
    orgs = demo._orgs()
    users = demo._users(orgs, "demo-password-2026")
    load_demo_needs(orgs, users)
    counts = load_demo_proposals(orgs, users)
    assert counts["proposals"] == counts["proposals_created"] == len(demo_data.PROPOSALS)
    assert counts["proposals_skipped"] == 0
    again = load_demo_proposals(orgs, users)
    assert again["proposals_created"] == 0 and again["proposals"] == len(demo_data.PROPOSALS)
    assert db.session.scalar(select(func.count(Proposal.id))) == len(demo_data.PROPOSALS)

    proposals = db.session.scalars(select(Proposal)).all()
    assert Counter(p.stage for p in proposals) == Counter(row["stage"] for row in demo_data.PROPOSALS)
    for p in proposals:
        events = db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == p.id)
                                    .order_by(ProposalEvent.id)).all()
        stage = "draft"
        for e in events:  # a chain of allowed moves from draft to the current stage
            assert e.from_stage == stage and (e.from_stage, e.to_stage) in TRANSITIONS, (p, e)
            stage = e.to_stage
        assert stage == p.stage
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        if p.stage == "draft":
            assert p.submitted_at is None and not p.receipt_hash
        else:
            assert p.submitted_at is not None and receipts.verify_receipt(p.receipt_content, p.receipt_hash)
        assert (p.forwarded_at is not None) == (p.stage in FORWARDED), p
        if p.stage == "declined":
            assert p.decline_reason and p.decline_note
