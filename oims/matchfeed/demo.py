"""Demo step: the demo proposer opts in to matching-need alerts, and the demo
history's decisions (invitations, shortlists, meeting requests, declines)
become judgments, so the KPI page's precision-by-band table and
`flask oims export-judgments` have something to show after `make run`.
Idempotent (judgments are keyed by need, candidate and source)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from oims.core.vocabulary import NDA_STAGES, ProposalStage
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.bands import calibrate
from oims.matchfeed import judgments
from oims.matchfeed.alerts import set_subscription
from oims.models import Invitation, Judgment, MatchSubscription, Need, Organisation, Proposal, User

log = logging.getLogger(__name__)
#: Demo cases whose owner asked for a meeting count as a "meeting" judgment (ended ones are left out).
MEETING_OR_LATER = (ProposalStage.MEETING_REQUESTED, ProposalStage.MEETING_SCHEDULED, ProposalStage.MET,
                    *NDA_STAGES)


def _fits(need: Need) -> dict[int, object]:
    if not ms.service().enabled:
        return {}
    try:
        return {hit.id: calibrate(hit) for hit in ms.rank_proposals(need) or []}
    except Exception:
        log.warning("demo judgments without matcher estimates", exc_info=True)
        return {}


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    proposer = users.get("proposer@example.jp")
    if proposer is not None:
        set_subscription(proposer, on_publish=True, weekly_digest=True)
    for inv in db.session.scalars(select(Invitation).order_by(Invitation.id)):
        need, org = db.session.get(Need, inv.need_id), db.session.get(Organisation, inv.org_id)
        if need is not None and org is not None:
            fit = calibrate(inv.match_score, kind="orgs") if inv.match_score is not None else None
            judgments.record(need, org, "invite", actor=None, fit=fit, rank=inv.match_rank)
    forwarded = db.session.scalars(select(Proposal).where(Proposal.forwarded_at.isnot(None))
                                   .order_by(Proposal.need_id, Proposal.id)).all()
    fits_by_need: dict[int, dict] = {}
    for prop in forwarded:
        if prop.need_id not in fits_by_need:
            fits_by_need[prop.need_id] = _fits(prop.need)
        fit = fits_by_need[prop.need_id].get(prop.id)
        judgments.record(prop.need, prop, "shortlist", actor=None, fit=fit, rank=prop.shortlist_rank)
        if prop.stage in MEETING_OR_LATER:
            judgments.record(prop.need, prop, "meeting", actor=None, fit=fit)
        elif prop.stage == ProposalStage.DECLINED:
            judgments.record(prop.need, prop, "declined", actor=None, fit=fit)
    db.session.flush()
    return {"judgments": db.session.scalar(select(func.count(Judgment.id))) or 0,
            "alert_subscriptions": db.session.scalar(select(func.count(MatchSubscription.id))) or 0}
