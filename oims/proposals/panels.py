"""Dashboard panels: a proposer's proposals by stage; new submissions to screen
for coordinators (their bureau) and admins (all bureaus)."""

from __future__ import annotations

from sqlalchemy import func, select

from oims.core.vocabulary import PROPOSAL_STAGES, ProposalStage
from oims.extensions import db
from oims.models import Need, Proposal
from oims.policy import proposal_filter


def proposer_panel(user):
    if not user.is_proposer:
        return None
    own = Proposal.org_id == user.organisation_id
    counts = dict(db.session.execute(
        select(Proposal.stage, func.count(Proposal.id)).where(own).group_by(Proposal.stage)).all())
    recent = db.session.scalars(select(Proposal).where(own)
                                .order_by(Proposal.last_activity_at.desc(), Proposal.id.desc()).limit(5)).all()
    by_stage = [(stage, counts[stage]) for stage in PROPOSAL_STAGES if counts.get(stage)]
    return "proposals/_panel_proposer.html", {"by_stage": by_stage, "recent": recent,
                                               "total": sum(counts.values())}


def screening_panel(user):
    if not user.is_staff:
        return None
    waiting = (select(Proposal).join(Need, Need.id == Proposal.need_id)
               .where(proposal_filter(user), Proposal.stage == ProposalStage.SUBMITTED))
    oldest = db.session.scalars(waiting.order_by(Proposal.submitted_at.asc(), Proposal.id).limit(8)).all()

    def counts() -> list[int]:
        return [db.session.scalar(select(func.count()).select_from(waiting.subquery())) or 0,
                db.session.scalar(select(func.count(Proposal.id)).where(
                    proposal_filter(user), Proposal.stage == ProposalStage.SCREENING)) or 0]

    # The counts of a bureau's queue are cached with the KPI panel (recomputed on any change in the bureau).
    from oims.insight.cache import PREFIX, cached

    bureau = None if user.is_admin else user.bureau
    count, screening = cached(f"{PREFIX}screening:{bureau or 'all'}", bureau, counts)["value"]
    return "proposals/_panel_screening.html", {"count": count, "oldest": oldest, "screening": screening}
