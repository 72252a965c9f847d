"""Demo step (h8): follow-up check-ins for held first meetings — one answered,
one left unanswered for two weeks (so it shows among the stalled cases).
Idempotent: meetings that already have check-ins are left alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.extensions import db
from oims.models import CheckIn, Meeting, Organisation, Proposal, User
from oims.models.base import utcnow


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    now = utcnow()
    held = db.session.execute(
        select(Meeting, Proposal).join(Proposal, Proposal.id == Meeting.proposal_id)
        .where(Meeting.status == "held", Meeting.starts_at.isnot(None)).order_by(Meeting.id)).all()
    made = 0
    for i, (meeting, proposal) in enumerate(held[:2]):
        if db.session.scalar(select(CheckIn.id).where(CheckIn.meeting_id == meeting.id).limit(1)):
            continue
        if i == 0:
            checkin = CheckIn(proposal_id=proposal.id, meeting_id=meeting.id, weeks=2,
                              sent_at=now - timedelta(days=16))
        else:
            responder = db.session.scalar(select(User).where(User.organisation_id == proposal.org_id).limit(1))
            checkin = CheckIn(proposal_id=proposal.id, meeting_id=meeting.id, weeks=2,
                              sent_at=now - timedelta(days=30), answered_at=now - timedelta(days=28),
                              answered_by_id=responder.id if responder else None, answer="continuing",
                              note="評価用サンプルを準備中です。")
        db.session.add(checkin)
        made += 1
    db.session.flush()
    return {"check_ins": made}
