"""Demo step (h8): staged disclosure marks, the key terms of a case at the
NDA stage (an unpaid PoC, so the guideline warning shows) and one private
report. Idempotent: only fills what is still empty."""

from __future__ import annotations

from sqlalchemy import select

from oims.demo import data
from oims.extensions import db
from oims.models import CaseTerms, FairDealingReport, Need, Organisation, Proposal, User
from oims.models.base import utcnow
from oims.proposals import receipts
from oims.proposals.services import proposal_attachments

# (proposing organisation key, need title prefix) -> sections disclosed after the NDA
_STAGED = {("jomo_composite", "n_ev_battery_case"): ["solution", "cost"],
           ("omori_seimitsu", "n_eaxle_gear_noise"): ["team", "cost"]}


def _proposal(orgs, org_key: str, need_key: str) -> Proposal | None:
    title = next((n["title"] for n in data.NEEDS if n["key"] == need_key), None)
    org = orgs.get(org_key)
    if title is None or org is None:
        return None
    return db.session.scalar(select(Proposal).join(Need, Need.id == Proposal.need_id).where(
        Need.title == title, Proposal.org_id == org.id).limit(1))


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    counts = {"staged_proposals": 0, "case_terms": 0, "fair_dealing_reports": 0}
    for (org_key, need_key), parts in _STAGED.items():
        p = _proposal(orgs, org_key, need_key)
        if p is not None and not p.after_nda:
            p.after_nda = parts
            if p.receipt_content:  # the receipt names the staged parts; keep its original time
                stamp = receipts.receipt_time(p) or utcnow()
                receipts.issue_receipt(p, proposal_attachments(p), stamp)
            counts["staged_proposals"] += 1
    p = _proposal(orgs, "aki_seiki", "n_eaxle_gear_noise")
    if p is not None and db.session.scalar(select(CaseTerms).where(CaseTerms.proposal_id == p.id)) is None:
        db.session.add(CaseTerms(
            proposal_id=p.id, nda_term_months=24, nda_mutual=True,
            nda_scope="e-axle gear noise data and gear design drawings, for evaluating the joint development only",
            poc_scope="Prototype 20 gear sets with flank modification; bench NVH test at the owner's lab",
            poc_weeks=12, poc_paid=False, ip_owner="owner", updated_by_id=None))
        counts["case_terms"] += 1
        reporter = db.session.scalar(select(User).where(User.organisation_id == p.org_id).limit(1))
        if reporter is not None:
            db.session.add(FairDealingReport(
                proposal_id=p.id, reporter_id=reporter.id, category="unpaid_poc",
                body="The owner asks for 20 prototype gear sets free of charge before any contract. "
                     "Could the bureau advise how to propose a paid PoC?"))
            counts["fair_dealing_reports"] += 1
    db.session.flush()
    return counts
