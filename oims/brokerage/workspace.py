"""What a coordinator and a need owner read about brokerage: the coordinator's
workspace (invitations and shortlists and what became of them, the bureau's
published needs, stalled cases) and how a need owner answers. Read only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from oims.core.vocabulary import LIVE_CASE_STAGES, NeedStatus, ProposalStage
from oims.extensions import db
from oims.insight.figures import is_deal, is_meeting, levels_of, owner_response
from oims.models import Invitation, Need, Organisation, Proposal, User
from oims.models.base import utcnow


def response_stats(org_id: int, today: date | None = None) -> dict:
    """How a need owner answers forwarded proposals (insight.figures: response
    rate, on-time rate, median days)."""
    return owner_response(org_id, today=today)


def stalled_cases(user: User, now: datetime | None = None, limit: int | None = None) -> list[Proposal]:
    """Live cases without activity for OIMS_STALL_DAYS, in the user's bureau (the `limit` longest stalled)."""
    now = now or utcnow()
    quiet_since = now - timedelta(days=current_app.config["OIMS_STALL_DAYS"])
    q = (select(Proposal).join(Need, Need.id == Proposal.need_id)
         .where(Proposal.stage.in_(LIVE_CASE_STAGES), Proposal.last_activity_at < quiet_since)
         .order_by(Proposal.last_activity_at))
    if not user.is_admin:
        q = q.where(Need.bureau == user.bureau)
    return list(db.session.scalars(q.limit(limit) if limit else q))


def _funnel(proposals: list[Proposal]) -> tuple[int, int]:
    """(meetings held, 成約) by the one definition in insight.figures."""
    levels = levels_of([p.id for p in proposals])
    return (sum(1 for v in levels.values() if is_meeting(v)), sum(1 for v in levels.values() if is_deal(v)))


def coordinator_workspace(user: User) -> dict:
    """Every invitation and shortlist `user` made, what became of them, and hit rates."""
    invitations = db.session.scalars(select(Invitation).where(Invitation.coordinator_id == user.id)
                                     .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()
    need_ids = {i.need_id for i in invitations}
    needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(need_ids)))} if need_ids else {}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_({i.org_id for i in invitations})))} if invitations else {}
    props = {}
    if invitations:
        for p in db.session.scalars(select(Proposal).where(Proposal.need_id.in_(need_ids),
                                                           Proposal.stage != ProposalStage.DRAFT)
                                    .order_by(Proposal.id)):
            props[(p.need_id, p.org_id)] = p
    inv_rows = [{"invitation": i, "need": needs.get(i.need_id), "org": orgs.get(i.org_id),
                 "proposal": props.get((i.need_id, i.org_id))} for i in invitations]
    invited_props = [r["proposal"] for r in inv_rows if r["proposal"] is not None]
    inv_meetings, inv_deals = _funnel(invited_props)
    shortlisted = db.session.scalars(select(Proposal).where(Proposal.shortlisted_by_id == user.id)
                                     .order_by(Proposal.forwarded_at.desc())).all()
    sl_meetings, sl_deals = _funnel(shortlisted)
    return {
        "invitations": inv_rows,
        "shortlisted": shortlisted,
        "funnel": {"invitations": len(invitations), "proposals": len(invited_props),
                   "meetings": inv_meetings, "deals": inv_deals},
        "shortlist_funnel": {"shortlisted": len(shortlisted),
                             "answered": sum(1 for p in shortlisted if p.responded_at),
                             "meetings": sl_meetings, "deals": sl_deals},
    }


def bureau_needs(user: User) -> list[tuple[Need, int, int]]:
    """Published needs the coordinator brokers, with (proposals, forwarded) counts."""
    q = select(Need).where(Need.status == NeedStatus.PUBLISHED).order_by(Need.deadline, Need.id)
    if not user.is_admin:
        q = q.where(Need.bureau == user.bureau)
    needs = db.session.scalars(q).all()
    counts = {nid: (n, f) for nid, n, f in db.session.execute(
        select(Proposal.need_id, func.count(Proposal.id), func.count(Proposal.forwarded_at))
        .where(Proposal.need_id.in_([n.id for n in needs]), Proposal.stage != ProposalStage.DRAFT)
        .group_by(Proposal.need_id))} if needs else {}
    return [(n, *counts.get(n.id, (0, 0))) for n in needs]
