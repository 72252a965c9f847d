"""Regional strength: the specialisation coefficient (特化係数, location
quotient) of proposer organisations and of proposals by prefecture ×
industry (JSIC division), against the national distribution, as RESAS does
for the economy; and the gap a bureau can act on (needs with few local
capable firms, needs nobody answered).

    特化係数(p, i) = (n(p, i) / n(p)) / (N(i) / N)

n(p, i): count in prefecture p (or the bureau) and industry i; n(p): all
industries in p; N(i): count of industry i in Japan; N: all of Japan.
1.0 = the national share; above 1 = the region is specialised in i.
A prefecture with no counts has no coefficient (None), not 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from oims.core import reference as ref
from oims.core.vocabulary import PUBLIC_NEED_STATUSES, ProposalStage
from oims.extensions import db
from oims.models import Need, Organisation, Proposal

BUREAU_ROW = "bureau"  # the row of the bureau's prefectures taken together
# Colour classes of the heat map (CSS in oims.css): upper bounds of each band.
BANDS = ((0.5, "lq-1"), (0.8, "lq-2"), (1.25, "lq-3"), (2.0, "lq-4"))


def coefficient(n_pi: int, n_p: int, n_i: int, n: int) -> float | None:
    """(n_pi / n_p) / (n_i / n): None when a share is undefined."""
    if not n_p or not n_i or not n:
        return None
    return (n_pi / n_p) / (n_i / n)


def heat_class(value: float | None) -> str:
    if value is None:
        return "lq-none"
    if value == 0:
        return "lq-0"
    for upper, css in BANDS:
        if value < upper:
            return css
    return "lq-5"


def prefectures_of(bureau: str) -> list[str]:
    return [code for code, b in ref.BUREAU_OF_PREFECTURE.items() if b == bureau]


@dataclass
class Grid:
    """Counts and coefficients for one measure (organisations or proposals)."""

    rows: list[str]                       # prefecture codes, then BUREAU_ROW
    industries: list[str]                 # JSIC divisions present nationally
    counts: dict = field(default_factory=dict)       # (row, industry) -> n
    row_totals: dict = field(default_factory=dict)   # row -> n
    national: dict = field(default_factory=dict)     # industry -> N(i)
    national_total: int = 0

    def value(self, row: str, industry: str) -> float | None:
        return coefficient(self.counts.get((row, industry), 0), self.row_totals.get(row, 0),
                           self.national.get(industry, 0), self.national_total)


def build_grid(by_pref_industry: Counter, prefectures: list[str]) -> Grid:
    """A Grid from counts keyed by (prefecture, industry) for all of Japan."""
    national: Counter = Counter()
    for (_pref, industry), n in by_pref_industry.items():
        national[industry] += n
    order = {c.code: i for i, c in enumerate(ref.INDUSTRIES)}
    industries = sorted((i for i, n in national.items() if n), key=lambda i: order.get(i, 99))
    grid = Grid(rows=[*prefectures, BUREAU_ROW], industries=industries, national=dict(national),
                national_total=sum(national.values()))
    for (pref, industry), n in by_pref_industry.items():
        if pref in prefectures:
            for row in (pref, BUREAU_ROW):
                grid.counts[(row, industry)] = grid.counts.get((row, industry), 0) + n
                grid.row_totals[row] = grid.row_totals.get(row, 0) + n
    return grid


def _proposer_orgs():
    return (Organisation.kind.in_(sorted(ref.PROPOSER_KINDS)), Organisation.status == "active")


def org_counts() -> Counter:
    rows = db.session.execute(select(Organisation.prefecture, Organisation.industry, func.count(Organisation.id))
                              .where(*_proposer_orgs())
                              .group_by(Organisation.prefecture, Organisation.industry)).all()
    return Counter({(p, i): n for p, i, n in rows})


def proposal_counts() -> Counter:
    """Submitted proposals (not drafts), by the proposing organisation's prefecture and industry."""
    rows = db.session.execute(select(Organisation.prefecture, Organisation.industry, func.count(Proposal.id))
                              .join(Organisation, Organisation.id == Proposal.org_id)
                              .where(Proposal.stage != ProposalStage.DRAFT)
                              .group_by(Organisation.prefecture, Organisation.industry)).all()
    return Counter({(p, i): n for p, i, n in rows})


def strength(bureau: str) -> dict:
    prefs = prefectures_of(bureau)
    return {"orgs": build_grid(org_counts(), prefs), "proposals": build_grid(proposal_counts(), prefs),
            "gap": gap(bureau, prefs)}


def gap(bureau: str, prefectures: list[str] | None = None) -> list[dict]:
    """Per industry (the need owner's JSIC division): the bureau's needs
    (published, closed or fulfilled), how many received no proposal, and the
    proposer organisations of that industry in the bureau's prefectures.
    Sorted so that the industries a bureau can act on come first: unanswered
    needs, then the fewest local firms per need."""
    prefectures = prefectures if prefectures is not None else prefectures_of(bureau)
    proposed = select(Proposal.need_id).where(Proposal.stage != ProposalStage.DRAFT)
    rows = db.session.execute(
        select(Organisation.industry, func.count(Need.id),
               func.count(Need.id).filter(Need.id.not_in(proposed)))
        .join(Organisation, Organisation.id == Need.owner_org_id)
        .where(Need.bureau == bureau, Need.status.in_(PUBLIC_NEED_STATUSES))
        .group_by(Organisation.industry)).all()
    local = dict(db.session.execute(
        select(Organisation.industry, func.count(Organisation.id))
        .where(*_proposer_orgs(), Organisation.prefecture.in_(prefectures))
        .group_by(Organisation.industry)).all())
    out = []
    for industry, needs, unanswered in rows:
        firms = local.get(industry, 0)
        out.append({"industry": industry, "needs": needs, "unanswered": unanswered, "local_firms": firms,
                    "firms_per_need": firms / needs if needs else None,
                    "gap": unanswered > 0 or firms < needs})
    out.sort(key=lambda r: (-r["unanswered"], r["firms_per_need"] if r["firms_per_need"] is not None else 0,
                            r["industry"]))
    return out
