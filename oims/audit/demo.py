"""Demo step: the need owners open the proposals forwarded to them, so the
audit screens (owner's list of views, the proposer's "first opened" notice,
the coordinators' trail) have something to show after `make run`.

Derived from the demo's own forwarded proposals (no rows of its own): each
forwarded proposal but every fourth is opened by a user of the owner's
organisation six hours after it was forwarded (and the ones that went on to
a meeting once more a day later). Idempotent: a proposal that already has an
owner view gets none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.core.vocabulary import OUTCOME_STAGES, ProposalStage
from oims.extensions import db
from oims.models import AuditLog, Proposal, User

MET_OR_LATER = (ProposalStage.MET, *OUTCOME_STAGES)


def demo_step(orgs, users) -> dict:
    viewed = set(db.session.scalars(select(AuditLog.object_id).where(
        AuditLog.action == "proposal.viewed_by_owner", AuditLog.object_type == "proposal")))
    proposals = db.session.scalars(select(Proposal).where(Proposal.forwarded_at.isnot(None))
                                   .order_by(Proposal.id)).all()
    added = 0
    for n, proposal in enumerate(proposals):
        if proposal.id in viewed or n % 4 == 3:
            continue
        viewer = db.session.scalar(select(User).where(User.organisation_id == proposal.need.owner_org_id)
                                   .order_by(User.id).limit(1))
        if viewer is None:
            continue
        times = [proposal.forwarded_at + timedelta(hours=6)]
        if proposal.stage in MET_OR_LATER:
            times.append(times[0] + timedelta(days=1))
        for at in times:
            db.session.add(AuditLog(actor_id=viewer.id, action="proposal.viewed_by_owner", object_type="proposal",
                                    object_id=proposal.id, detail={"need_id": proposal.need_id}, created_at=at))
            added += 1
    db.session.flush()
    return {"owner_views": added}
