"""KPI figures: one query that loads the facts of a scope, then pure functions
that compute every table from those facts (no Flask, easy to check by hand).

Definitions (shown on the dashboard too):

- Period: `start`..`end` inclusive, as dates in the bureau's time zone.
- Need cohort: needs in scope *published* in the period.
- Proposal cohort: proposals (not drafts) in scope *submitted* in the period;
  each is followed to the furthest stage it ever reached, whenever that was.
- A proposal's level is the furthest milestone seen in its current stage,
  its stage events (from and to) or a held meeting: 1 submitted,
  2 shortlisted, 3 met, 4 NDA/PoC, 5 deal (contract). The funnel counts
  proposals at that level or beyond, so every step is a subset of the last.
- Time measures are per need of the need cohort: days from publication to
  its first proposal, first shortlisting and first meeting (ProposalEvent
  times), median over the needs that got there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from oims.core.vocabulary import ProposalStage
from oims.extensions import db
from oims.insight.figures import LEVEL, MILESTONES, STAGE_LEVEL, held_flags, proposal_level, rate, response_figures  # noqa: F401
from oims.insight.figures import days_between as _days
from oims.insight.figures import median_1 as _median
from oims.models import Meeting, Need, Organisation, Proposal, ProposalEvent

DIMENSIONS = ("bureau", "prefecture", "industry", "kind", "partnership")
DEFAULT_TOP_N = 10


@dataclass(frozen=True)
class Scope:
    """What to count. `bureau` None = every bureau; `owner_org_id` limits to
    one need owner's needs; `forwarded_only` keeps only proposals forwarded to
    the owner (what a need owner may see)."""

    start: date | None = None
    end: date | None = None
    bureau: str | None = None
    owner_org_id: int | None = None
    forwarded_only: bool = False
    tz: str = "Asia/Tokyo"

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        zone: tzinfo = ZoneInfo(self.tz)
        lo = datetime.combine(self.start, time(), zone).astimezone(UTC) if self.start else None
        hi = (datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
              if self.end else None)
        return lo, hi

    def in_period(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        lo, hi = self.bounds()
        return (lo is None or moment >= lo) and (hi is None or moment < hi)


@dataclass
class NeedFact:
    id: int
    bureau: str
    owner_org_id: int
    owner_prefecture: str
    owner_industry: str
    partnership_types: tuple[str, ...]
    published_at: datetime | None


@dataclass
class ProposalFact:
    id: int
    need_id: int
    need_bureau: str
    org_kind: str
    org_prefecture: str
    org_bureau: str
    submitted_at: datetime | None
    stage: str
    forwarded_at: datetime | None = None
    responded_at: datetime | None = None
    response_due: date | None = None
    shortlist_rank: int | None = None
    invited: bool = False
    level: int = 1
    first_shortlist_at: datetime | None = None
    first_met_at: datetime | None = None


@dataclass
class Facts:
    scope: Scope
    needs: dict[int, NeedFact] = field(default_factory=dict)  # every need in scope
    proposals: list[ProposalFact] = field(default_factory=list)  # every non-draft proposal in scope

    @property
    def need_cohort(self) -> list[NeedFact]:
        return [n for n in self.needs.values() if self.scope.in_period(n.published_at)]

    @property
    def proposal_cohort(self) -> list[ProposalFact]:
        return [p for p in self.proposals if self.scope.in_period(p.submitted_at)]


def fiscal_year_start(today: date) -> date:
    """Japanese fiscal years start on 1 April."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


# --- loading -------------------------------------------------------------------

def load_facts(scope: Scope) -> Facts:
    """The one database read behind every KPI table."""
    facts = Facts(scope, needs=_load_needs(scope))
    if not facts.needs:
        return facts
    props = _load_proposals(scope, facts.needs)
    seen = _follow_events(scope, props)
    # Only meetings that happened count (figures.proposal_level).
    held = held_flags(db.session.execute(_in_scope(
        select(Meeting.proposal_id, Meeting.starts_at).join(Proposal, Proposal.id == Meeting.proposal_id)
        .where(Meeting.status == "held"), scope)))
    for fact in props.values():
        fact.level = proposal_level(fact.stage, seen.get(fact.id, ()), held.get(fact.id))
        if fact.level < LEVEL["met"]:
            fact.first_met_at = None
    facts.proposals = sorted(props.values(), key=lambda p: p.id)
    return facts


def _load_needs(scope: Scope) -> dict[int, NeedFact]:
    owner = aliased(Organisation)
    # Only the columns the figures need (proposal texts can be long).
    q = (select(Need.id, Need.bureau, Need.owner_org_id, Need.partnership_types, Need.published_at,
                owner.prefecture, owner.industry).join(owner, owner.id == Need.owner_org_id))
    if scope.bureau:
        q = q.where(Need.bureau == scope.bureau)
    if scope.owner_org_id is not None:
        q = q.where(Need.owner_org_id == scope.owner_org_id)
    return {nid: NeedFact(nid, bureau, owner_org_id, pref, industry, tuple(types or ()), published_at)
            for nid, bureau, owner_org_id, types, published_at, pref, industry in db.session.execute(q)}


def _in_scope(q, scope: Scope):
    """`q` (on proposals) filtered by the same scope as the needs: one joined
    query per table (large IN lists were slow on PostgreSQL at 100k proposals)."""
    q = q.join(Need, Need.id == Proposal.need_id).where(Proposal.stage != ProposalStage.DRAFT)
    if scope.bureau:
        q = q.where(Need.bureau == scope.bureau)
    if scope.owner_org_id is not None:
        q = q.where(Need.owner_org_id == scope.owner_org_id)
    if scope.forwarded_only:
        q = q.where(Proposal.forwarded_at.isnot(None))
    return q


def _load_proposals(scope: Scope, needs: dict[int, NeedFact]) -> dict[int, ProposalFact]:
    pq = _in_scope(select(Proposal.id, Proposal.need_id, Proposal.submitted_at, Proposal.stage,
                          Proposal.forwarded_at, Proposal.responded_at, Proposal.response_due,
                          Proposal.shortlist_rank, Proposal.invitation_id, Organisation.kind,
                          Organisation.prefecture, Organisation.bureau)
                   .join(Organisation, Organisation.id == Proposal.org_id), scope)
    return {p.id: ProposalFact(
        p.id, p.need_id, needs[p.need_id].bureau, p.kind, p.prefecture, p.bureau, p.submitted_at,
        p.stage, p.forwarded_at, p.responded_at, p.response_due, p.shortlist_rank,
        p.invitation_id is not None, STAGE_LEVEL.get(p.stage, 1)) for p in db.session.execute(pq)}


def _follow_events(scope: Scope, props: dict[int, ProposalFact]) -> dict[int, list[str]]:
    """Every stage each proposal passed through (from and to); sets its first
    shortlisting and first meeting times on the way."""
    eq = _in_scope(select(ProposalEvent.proposal_id, ProposalEvent.from_stage, ProposalEvent.to_stage,
                          ProposalEvent.created_at).join(Proposal, Proposal.id == ProposalEvent.proposal_id), scope)
    seen: dict[int, list[str]] = defaultdict(list)
    for ev in db.session.execute(eq.order_by(ProposalEvent.created_at, ProposalEvent.id)):
        fact = props.get(ev.proposal_id)
        if fact is None:
            continue
        seen[fact.id] += [ev.from_stage, ev.to_stage]
        if ev.to_stage == ProposalStage.SHORTLISTED and fact.first_shortlist_at is None:
            fact.first_shortlist_at = ev.created_at
        if ev.to_stage == ProposalStage.MET and fact.first_met_at is None:
            fact.first_met_at = ev.created_at
    return seen


# --- pure computations ----------------------------------------------------------

def milestone_counts(proposals: list[ProposalFact]) -> dict[str, int]:
    return {m: sum(1 for p in proposals if p.level >= LEVEL[m]) for m in MILESTONES}


def funnel(facts: Facts) -> list[dict]:
    """Rows: stage, count, rate against the previous row (needs → proposals has
    no rate: it is proposals per need, given separately)."""
    needs = facts.need_cohort
    counts = milestone_counts(facts.proposal_cohort)
    rows = [{"stage": "needs", "count": len(needs), "rate": None},
            {"stage": "proposals", "count": counts["submitted"], "rate": None}]
    prev = counts["submitted"]
    for m in MILESTONES[1:]:
        rows.append({"stage": m, "count": counts[m], "rate": rate(counts[m], prev)})
        prev = counts[m]
    return rows


def summary(facts: Facts) -> dict:
    needs = facts.need_cohort
    cohort = facts.proposal_cohort
    with_proposal = {p.need_id for p in facts.proposals}
    answered = sum(1 for n in needs if n.id in with_proposal)
    deals = sum(1 for p in cohort if p.level >= LEVEL["deal"])
    return {
        "needs": len(needs), "proposals": len(cohort),
        "proposals_per_need": round(len(cohort) / len(needs), 2) if needs else None,
        "needs_with_proposal": answered, "needs_with_proposal_rate": rate(answered, len(needs)),
        "deal_rate": rate(deals, len(cohort)),
    }


def _need_keys(dim: str, need: NeedFact) -> tuple[str, ...]:
    if dim == "bureau":
        return (need.bureau,)
    if dim == "prefecture":
        return (need.owner_prefecture,)
    if dim == "industry":
        return (need.owner_industry,)
    if dim == "partnership":
        return need.partnership_types or ("",)
    return ()  # "kind" is the proposer's: needs are not counted there


def breakdown(facts: Facts, dim: str) -> list[dict]:
    """The funnel per value of a dimension: bureau (the need's), prefecture and
    industry (the need owner's), kind (the proposer's organisation kind) and
    partnership (the need's partnership types; a need may count under several)."""
    if dim not in DIMENSIONS:
        raise ValueError(dim)
    need_count: Counter = Counter()
    for n in facts.need_cohort:
        for k in _need_keys(dim, n):
            need_count[k] += 1
    groups: dict[str, list[ProposalFact]] = defaultdict(list)
    for p in facts.proposal_cohort:
        keys = (p.org_kind,) if dim == "kind" else _need_keys(dim, facts.needs[p.need_id])
        for k in keys:
            groups[k].append(p)
    rows = []
    for key in set(need_count) | set(groups):
        c = milestone_counts(groups.get(key, []))
        rows.append({
            "key": key, "needs": need_count.get(key, 0) if dim != "kind" else None,
            "proposals": c["submitted"], "shortlisted": c["shortlisted"], "meetings": c["met"],
            "nda_poc": c["nda_poc"], "deals": c["deal"], "meeting_rate": rate(c["met"], c["submitted"]),
        })
    rows.sort(key=lambda r: (-r["proposals"], -(r["needs"] or 0), r["key"]))
    return rows


def time_measures(facts: Facts) -> list[dict]:
    """Median (and count of needs measured) of days from publication to the
    first proposal, the first shortlisting and the first meeting."""
    by_need: dict[int, list[ProposalFact]] = defaultdict(list)
    for p in facts.proposals:
        by_need[p.need_id].append(p)
    measures: dict[str, list[float]] = {"first_proposal": [], "first_shortlist": [], "first_meeting": []}
    pick: dict[str, Callable[[ProposalFact], datetime | None]] = {
        "first_proposal": lambda p: p.submitted_at,
        "first_shortlist": lambda p: p.first_shortlist_at,
        "first_meeting": lambda p: p.first_met_at,
    }
    for need in facts.need_cohort:
        if need.published_at is None:
            continue
        for name, fn in pick.items():
            moments = [m for m in (fn(p) for p in by_need.get(need.id, [])) if m is not None]
            if moments:
                measures[name].append(_days(need.published_at, min(moments)))
    return [{"measure": name, "needs": len(vals), "median_days": _median(vals)}
            for name, vals in measures.items()]


def response_rates(facts: Facts, label: Callable[[int], str] = str, today: date | None = None) -> dict:
    """Forwarded proposals of the cohort and how their need owners answered:
    overall and per owner organisation (`label` names an organisation).

    The on-time rate is the brokerage's definition (`response_stats`):
    answered by the due date / (answered + unanswered past the due date);
    unanswered proposals still within their due date do not count yet. A
    proposal without a due date counts as on time when answered. Due dates
    are calendar dates in the bureau's time zone."""
    tz = ZoneInfo(facts.scope.tz)
    today = today or datetime.now(tz).date()

    def figures(items: list[ProposalFact]) -> dict:
        return response_figures([(p.forwarded_at, p.responded_at, p.response_due) for p in items], tz, today)

    cohort = facts.proposal_cohort
    per_owner: dict[int, list[ProposalFact]] = defaultdict(list)
    for p in cohort:
        if p.forwarded_at is not None:
            per_owner[facts.needs[p.need_id].owner_org_id].append(p)
    rows = [{"owner_org_id": oid, "owner": label(oid), **figures(items)} for oid, items in per_owner.items()]
    rows.sort(key=lambda r: (-r["forwarded"], r["owner"]))
    return {"overall": figures(cohort), "owners": rows}


def regional(facts: Facts) -> list[dict]:
    """Where proposals come from: the proposers' prefectures, most first."""
    cohort = facts.proposal_cohort
    groups: dict[str, list[ProposalFact]] = defaultdict(list)
    for p in cohort:
        groups[p.org_prefecture].append(p)
    rows = []
    for pref, items in groups.items():
        c = milestone_counts(items)
        rows.append({"prefecture": pref, "proposals": c["submitted"], "share": rate(c["submitted"], len(cohort)),
                     "meetings": c["met"], "deals": c["deal"]})
    rows.sort(key=lambda r: (-r["proposals"], r["prefecture"]))
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    return rows


def cross_regional(facts: Facts) -> dict:
    """Proposals whose proposer's bureau differs from the need's bureau."""
    cohort = facts.proposal_cohort
    cross = [p for p in cohort if p.org_bureau != p.need_bureau]
    met = [p for p in cohort if p.level >= LEVEL["met"]]
    cross_met = [p for p in cross if p.level >= LEVEL["met"]]
    flows: dict[tuple[str, str], list[ProposalFact]] = defaultdict(list)
    for p in cross:
        flows[(p.org_bureau, p.need_bureau)].append(p)
    rows = [{"from_bureau": a, "to_bureau": b, "proposals": len(items),
             "meetings": sum(1 for p in items if p.level >= LEVEL["met"])} for (a, b), items in flows.items()]
    rows.sort(key=lambda r: (-r["proposals"], r["from_bureau"], r["to_bureau"]))
    return {"proposals": len(cohort), "cross_proposals": len(cross), "cross_share": rate(len(cross), len(cohort)),
            "meetings": len(met), "cross_meetings": len(cross_met), "cross_meeting_share": rate(len(cross_met), len(met)),
            "flows": rows}


def matcher_usefulness(facts: Facts, top_n: int = DEFAULT_TOP_N) -> dict:
    """Share of the cohort's meetings that came from a coordinator's invitation
    or from a shortlisting at rank ≤ top_n of the matcher's ranking."""
    met = [p for p in facts.proposal_cohort if p.level >= LEVEL["met"]]
    invited = [p for p in met if p.invited]
    top = [p for p in met if p.shortlist_rank is not None and p.shortlist_rank <= top_n]
    either = [p for p in met if p.invited or (p.shortlist_rank is not None and p.shortlist_rank <= top_n)]
    return {"top_n": top_n, "meetings": len(met),
            "from_invitation": len(invited), "from_invitation_share": rate(len(invited), len(met)),
            "from_top_n": len(top), "from_top_n_share": rate(len(top), len(met)),
            "from_either": len(either), "from_either_share": rate(len(either), len(met))}


def report(facts: Facts, top_n: int = DEFAULT_TOP_N, owner_label: Callable[[int], str] = str,
           today: date | None = None) -> dict:
    """Every KPI table of a scope, as plain data (also the API's /kpi body)."""
    lo, hi = facts.scope.start, facts.scope.end
    return {
        "period": {"from": lo.isoformat() if lo else None, "to": hi.isoformat() if hi else None},
        "bureau": facts.scope.bureau,
        "summary": summary(facts),
        "funnel": funnel(facts),
        "breakdowns": {dim: breakdown(facts, dim) for dim in DIMENSIONS},
        "time_measures": time_measures(facts),
        "response": response_rates(facts, owner_label, today),
        "regional": regional(facts),
        "cross_regional": cross_regional(facts),
        "matcher": matcher_usefulness(facts, top_n),
    }
