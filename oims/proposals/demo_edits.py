"""Demo step (h9): one edit of a submitted proposal, so the history shows an
edit with its own receipt next to the first one (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from oims.core.vocabulary import ProposalStage
from oims.demo import data
from oims.extensions import db
from oims.models import Proposal, ProposalReceipt, User
from oims.proposals import receipts
from oims.proposals.services import proposal_attachments


def demo_step(orgs, users) -> dict:
    edited = 0
    for row in data.read("proposal_edits"):
        user = db.session.scalar(select(User).where(User.email == row["org_email"]))
        if user is None:
            continue
        props = db.session.scalars(select(Proposal).where(
            Proposal.org_id == user.organisation_id, Proposal.stage == ProposalStage.SUBMITTED,
            Proposal.receipt_hash != "").order_by(Proposal.id)).all()
        if any(row["append"] in (p.summary or "") for p in props):
            continue  # already edited by an earlier run
        prop = next((p for p in props if (db.session.scalar(
            select(func.count(ProposalReceipt.id)).where(ProposalReceipt.proposal_id == p.id)) or 0) == 1), None)
        if prop is None:
            continue
        first = receipts.receipt_time(prop)
        prop.summary = (prop.summary or "") + row["append"]
        receipts.issue_receipt(prop, proposal_attachments(prop), first + timedelta(days=row.get("days", 1)))
        edited += 1
    db.session.flush()
    return {"proposal_edits": edited}
