"""The one definition of every figure OIMS shows (h10). The KPI page, its CSV
files, the API's /kpi, the coordinator's workspace and the response badge on
need pages and search results all compute through these functions.

- **Forwarded**: a proposal the coordinator forwarded to the need owner.
- **Answered** (responded): a forwarded proposal the owner acted on.
- **Response rate (回答率)** = answered / forwarded.
- **On-time rate (期限内回答率)** = answered by the due date / (answered +
  unanswered past the due date); proposals still within their due date do
  not count yet; no due date = on time when answered. Dates are calendar
  dates in the service's time zone.
- **Median response time** = median days from forwarding to the answer,
  over the answered proposals.
- A proposal's **level** is the furthest milestone it reached (its current
  stage, every stage of its history, a held meeting): 1 submitted,
  2 shortlisted, 3 met, 4 NDA/PoC, 5 contract.
- **Meetings held** = proposals at level ≥ 3 (a meeting actually took place:
  being scheduled is not enough; a meeting marked held before its start
  does not count).
- **成約 (deal)** = proposals at level 5: a joint-development contract or
  other contract. NDA and PoC are counted separately (level ≥ 4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from statistics import median

from sqlalchemy import select

from oims.core.timeutil import local_tz, today_local
from oims.core.vocabulary import ProposalStage
from oims.extensions import db
from oims.models import Meeting, Need, Proposal, ProposalEvent

MILESTONES = ("submitted", "shortlisted", "met", "nda_poc", "deal")
LEVEL = {"submitted": 1, "shortlisted": 2, "met": 3, "nda_poc": 4, "deal": 5}
STAGE_LEVEL = {
    ProposalStage.SUBMITTED: 1, ProposalStage.SCREENING: 1, ProposalStage.SHORTLISTED: 2,
    ProposalStage.MEETING_REQUESTED: 2, ProposalStage.MEETING_SCHEDULED: 2, ProposalStage.MET: 3,
    ProposalStage.NDA: 4, ProposalStage.POC: 4, ProposalStage.CONTRACT: 5,
}


def rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def days_between(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds() / 86400


def median_1(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def proposal_level(stage: str, stages_seen: Iterable[str] = (), held_meeting: bool | None = None) -> int:
    """The furthest milestone: `stages_seen` are the from/to stages of its
    events; `held_meeting` True = a meeting marked held that has started,
    False = marked held but its start is still to come (no evidence yet),
    None = no held meeting."""
    level = max([STAGE_LEVEL.get(s, 1) for s in (stage, *stages_seen) if s] or [1])
    if held_meeting:
        level = max(level, LEVEL["met"])
    elif held_meeting is False and level == LEVEL["met"] and stage == ProposalStage.MET:
        level = LEVEL["shortlisted"]
    return level


def held_flags(rows: Iterable[tuple[int, datetime | None]], now: datetime | None = None) -> dict[int, bool]:
    """(proposal id, starts_at) of meetings marked held → proposal id → whether one has started."""
    now = now or datetime.now(UTC)
    held: dict[int, bool] = {}
    for pid, starts_at in rows:
        held[pid] = held.get(pid, False) or (starts_at is not None and starts_at <= now)
    return held


def is_meeting(level: int) -> bool:
    return level >= LEVEL["met"]


def is_deal(level: int) -> bool:
    """成約."""
    return level >= LEVEL["deal"]


def response_figures(rows: Iterable[tuple[datetime | None, datetime | None, date | None]], tz: tzinfo,
                     today: date) -> dict:
    """rows: (forwarded_at, responded_at, response_due) of proposals; those
    never forwarded are ignored."""
    forwarded = answered = on_time = overdue = 0
    days = []
    for fwd, done, due in rows:
        if fwd is None:
            continue
        forwarded += 1
        if done is not None:
            answered += 1
            days.append(days_between(fwd, done))
            if due is None or done.astimezone(tz).date() <= due:
                on_time += 1
        elif due is not None and due < today:
            overdue += 1
    counted = answered + overdue
    return {"forwarded": forwarded, "responded": answered, "response_rate": rate(answered, forwarded),
            "on_time": on_time, "overdue": overdue, "pending": forwarded - counted,
            "on_time_rate": rate(on_time, counted), "median_days": median_1(days)}


# --- database helpers (the app's side) ---------------------------------------------------------

def levels_of(proposal_ids: list[int]) -> dict[int, int]:
    """proposal id → level, from its stage, its events and its held meetings."""
    if not proposal_ids:
        return {}
    ids = list(proposal_ids)
    stages = dict(db.session.execute(select(Proposal.id, Proposal.stage).where(Proposal.id.in_(ids))).all())
    seen: dict[int, list[str]] = defaultdict(list)
    for pid, a, b in db.session.execute(select(ProposalEvent.proposal_id, ProposalEvent.from_stage,
                                               ProposalEvent.to_stage).where(ProposalEvent.proposal_id.in_(ids))):
        seen[pid] += [a, b]
    held = held_flags(db.session.execute(select(Meeting.proposal_id, Meeting.starts_at).where(
        Meeting.proposal_id.in_(ids), Meeting.status == "held")))
    return {pid: proposal_level(stage, seen.get(pid, ()), held.get(pid)) for pid, stage in stages.items()}


def owner_response(org_id: int | None = None, need_id: int | None = None, today: date | None = None) -> dict:
    """Response figures of a need owner (all its needs) or of one need."""
    q = (select(Proposal.forwarded_at, Proposal.responded_at, Proposal.response_due)
         .where(Proposal.forwarded_at.isnot(None)))
    if need_id is not None:
        q = q.where(Proposal.need_id == need_id)
    else:
        q = q.join(Need, Need.id == Proposal.need_id).where(Need.owner_org_id == org_id)
    return response_figures(db.session.execute(q).all(), local_tz(), today or today_local())


def badge_figures(needs: Iterable, today: date | None = None) -> dict[int, dict]:
    """need id → the response badge a proposer sees: over the owner's needs,
    or, for an anonymous need, over that need alone (the same numbers on two
    anonymous needs would link them to one owner)."""
    needs = list(needs)
    if not needs:
        return {}
    tz, today = local_tz(), today or today_local()
    anon_ids = {n.id for n in needs if n.anonymous}
    owner_ids = {n.owner_org_id for n in needs if not n.anonymous}
    by_need: dict[int, list] = defaultdict(list)
    by_owner: dict[int, list] = defaultdict(list)
    if anon_ids:
        for nid, *row in db.session.execute(
                select(Proposal.need_id, Proposal.forwarded_at, Proposal.responded_at, Proposal.response_due)
                .where(Proposal.need_id.in_(anon_ids), Proposal.forwarded_at.isnot(None))):
            by_need[nid].append(row)
    if owner_ids:
        for oid, *row in db.session.execute(
                select(Need.owner_org_id, Proposal.forwarded_at, Proposal.responded_at, Proposal.response_due)
                .join(Need, Need.id == Proposal.need_id)
                .where(Need.owner_org_id.in_(owner_ids), Proposal.forwarded_at.isnot(None))):
            by_owner[oid].append(row)
    return {n.id: response_figures(by_need[n.id] if n.anonymous else by_owner[n.owner_org_id], tz, today)
            for n in needs}
