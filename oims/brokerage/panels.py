"""Dashboard panels: needs for a proposer, stalled cases for a coordinator,
forwarded proposals awaiting a need owner's answer."""

from __future__ import annotations

from sqlalchemy import select

from oims.brokerage.shortlist import needs_for_org
from oims.brokerage.workspace import stalled_cases
from oims.core.timeutil import today_local
from oims.core.vocabulary import INACTIVE_STAGES, ProposalStage
from oims.extensions import db
from oims.matcher import service as ms
from oims.models import Invitation, Need, Proposal
from oims.needs.services import accepts_proposals
from oims.policy import owner_label
from oims.web.i18n import current_locale


def needs_for_you(user):
    if not user.is_proposer or not user.organisation.is_proposer_kind:
        return None
    svc = ms.service()
    if not svc.enabled:
        return None
    items = needs_for_org(user.organisation)
    return "brokerage/_panel_needs_for_you.html", {"cases": items or [], "status": svc.status(),
                                                   "unavailable": items is None}


def stalled(user):
    if not user.is_staff:
        return None
    return "brokerage/_panel_stalled.html", {"cases": stalled_cases(user, limit=20)}


def awaiting_answer(user):
    if not user.is_need_owner:
        return None
    items = db.session.scalars(
        select(Proposal).join(Need, Need.id == Proposal.need_id)
        .where(Need.owner_org_id == user.organisation_id, Proposal.forwarded_at.isnot(None),
               Proposal.responded_at.is_(None), Proposal.stage == ProposalStage.SHORTLISTED)
        .order_by(Proposal.response_due)).all()
    return "brokerage/_panel_awaiting.html", {"cases": items, "today": today_local()}


def my_cases(user):
    """A proposer's forwarded proposals: threads, meetings and outcomes live on the case page."""
    if not user.is_proposer:
        return None
    items = db.session.scalars(
        select(Proposal).where(Proposal.org_id == user.organisation_id, Proposal.forwarded_at.isnot(None))
        .order_by(Proposal.last_activity_at.desc()).limit(8)).all()
    if not items:
        return None
    return "brokerage/_panel_cases.html", {"cases": items}


def invitations(user):
    """A proposer's open invitations from coordinators: the need and a propose button
    (not only a notification). Closed needs drop out; an existing proposal is linked."""
    if not user.is_proposer:
        return None
    rows = db.session.scalars(select(Invitation).where(Invitation.org_id == user.organisation_id)
                              .order_by(Invitation.created_at.desc())).all()
    items = []
    for inv in rows:
        need = db.session.get(Need, inv.need_id)
        if need is None or not accepts_proposals(need):
            continue
        existing = db.session.scalar(select(Proposal).where(
            Proposal.need_id == need.id, Proposal.org_id == user.organisation_id,
            Proposal.stage.notin_(INACTIVE_STAGES)).limit(1))
        items.append({"invitation": inv, "need": need, "proposal": existing,
                      "owner": owner_label(need, user, current_locale())})
    if not items:
        return None
    return "brokerage/_panel_invitations.html", {"items": items[:10]}
