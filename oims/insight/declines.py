"""Declines that teach: decline reasons aggregated for a bureau (by the
proposer's industry and prefecture) and, for one proposer, over time.

A decline is a proposal in the "declined" stage; its time is its (last)
stage change to "declined" (the proposal's update time when no event was
recorded); its reason the coded `decline_reason` ("" = not given)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from oims.core import reference as ref
from oims.core.timeutil import local_tz
from oims.core.vocabulary import ProposalStage
from oims.extensions import db
from oims.models import Need, Organisation, Proposal, ProposalEvent

REASONS = [c.code for c in ref.DECLINE_REASONS]


def reason_columns(counter_keys) -> list[str]:
    """Reason codes in the reference order, "" (not given) last, only those present."""
    present = {k for k in counter_keys}
    return [r for r in REASONS if r in present] + ([""] if "" in present else [])


def bureau_declines(bureau: str) -> dict:
    """{"industry": (rows, reasons, counts), "prefecture": (...)} for the
    declined proposals to the needs of `bureau`."""
    base = (select(Organisation.industry, Organisation.prefecture, Proposal.decline_reason, func.count(Proposal.id))
            .join(Organisation, Organisation.id == Proposal.org_id)
            .where(Proposal.stage == ProposalStage.DECLINED,
                   Proposal.need_id.in_(select(Need.id).where(Need.bureau == bureau)))
            .group_by(Organisation.industry, Organisation.prefecture, Proposal.decline_reason))
    by_ind: Counter = Counter()
    by_pref: Counter = Counter()
    for industry, pref, reason, n in db.session.execute(base).all():
        by_ind[(industry, reason or "")] += n
        by_pref[(pref, reason or "")] += n
    return {"industry": _table(by_ind, [c.code for c in ref.INDUSTRIES]),
            "prefecture": _table(by_pref, [c.code for c in ref.PREFECTURES])}


def _table(counts: Counter, order: list[str]) -> dict:
    rank = {code: i for i, code in enumerate(order)}
    rows = sorted({k for k, _r in counts}, key=lambda k: rank.get(k, 999))
    reasons = reason_columns(r for _k, r in counts)
    totals = Counter()
    for (k, _r), n in counts.items():
        totals[k] += n
    return {"rows": rows, "reasons": reasons, "counts": dict(counts), "totals": dict(totals),
            "total": sum(counts.values())}


def quarter_of(moment) -> str:
    local = moment.astimezone(local_tz())
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def own_decline_trend(org_id: int) -> dict:
    """The reasons `org_id`'s proposals were declined, by calendar quarter (JST), oldest first."""
    declined_at = (select(ProposalEvent.proposal_id, func.max(ProposalEvent.created_at).label("at"))
                   .where(ProposalEvent.to_stage == ProposalStage.DECLINED).group_by(ProposalEvent.proposal_id).subquery())
    rows = db.session.execute(
        select(Proposal.decline_reason, func.coalesce(declined_at.c.at, Proposal.updated_at))
        .outerjoin(declined_at, declined_at.c.proposal_id == Proposal.id)
        .where(Proposal.org_id == org_id, Proposal.stage == ProposalStage.DECLINED)).all()
    counts: Counter = Counter()
    for reason, at in rows:
        counts[(quarter_of(at), reason or "")] += 1
    return _table(counts, sorted({q for q, _r in counts}))
