"""Judgments: coordinators' verdicts on matcher suggestions, kept so a bureau
can measure the matcher on its own cases.

Every function flushes and never commits; the caller commits once.

Sources and the relevance they imply (the grade written to the qrels):
  mark      a coordinator marked the candidate relevant (1) or not relevant (0)
  invite    a coordinator invited a recommended organisation (1)
  shortlist a coordinator shortlisted and forwarded a proposal (1)
  meeting   the need owner asked for a first meeting (2)
  declined  the need owner declined a forwarded proposal (0)
For one (need, candidate) the explicit mark wins; otherwise the highest grade
of the decisions, except that a decline after a shortlist counts as 0.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from oims.extensions import db
from oims.matcher.bands import BANDS, Calibrated, band_of
from oims.models import Judgment, Need, Organisation, Proposal, User
from oims.models.base import utcnow

RELEVANCE = {"invite": 1.0, "shortlist": 1.0, "meeting": 2.0, "declined": 0.0}


def record(need: Need, target: Proposal | Organisation, source: str, *, actor: User | None,
           relevance: float | None = None, fit: Calibrated | None = None,
           rank: int | None = None) -> Judgment:
    """Store (or, for a repeated source, replace) one judgment of `target` for `need`."""
    kind = "proposal" if isinstance(target, Proposal) else "org"
    org_id = target.org_id if kind == "proposal" else target.id
    if relevance is None:
        relevance = RELEVANCE[source]
    row = db.session.scalar(select(Judgment).where(
        Judgment.need_id == need.id, Judgment.target_kind == kind, Judgment.target_id == target.id,
        Judgment.source == source))
    if row is None:
        row = Judgment(need_id=need.id, target_kind=kind, target_id=target.id, source=source)
        db.session.add(row)
    row.org_id = org_id
    row.need_version = need.version or 1
    row.relevance = float(relevance)
    row.user_id = getattr(actor, "id", None)
    row.created_at = utcnow()
    if fit is not None:
        row.probability, row.band = fit.probability, fit.band
    if rank is not None:
        row.rank = rank
    db.session.flush()
    return row


def record_quietly(*args, **kwargs) -> None:
    """record(), for workflow hooks: a judgment must not block the decision itself.

    (A database error is re-raised: the session could not commit the decision either.)"""
    try:
        record(*args, **kwargs)
    except SQLAlchemyError:
        raise
    except Exception:
        logging.getLogger(__name__).warning("judgment not recorded", exc_info=True)


def marks_for(need: Need) -> dict[tuple[str, int], float]:
    """The coordinators' current marks on a need's candidates: {(kind, id): relevance}."""
    return {(j.target_kind, j.target_id): j.relevance for j in db.session.scalars(
        select(Judgment).where(Judgment.need_id == need.id, Judgment.source == "mark"))}


# --- reading them back -------------------------------------------------------------------------

@dataclass
class Verdict:
    need_id: int
    kind: str
    target_id: int
    relevance: float
    probability: float | None
    band: str


def verdicts(need_ids: set[int] | None = None, *, bureau: str | None = None, since=None,
             until=None) -> list[Verdict]:
    """One verdict per (need, candidate), by the precedence in the module docstring.

    Optionally only needs of one bureau and judgments made in [since, until)."""
    q = select(Judgment).order_by(Judgment.id)
    if need_ids is not None:
        q = q.where(Judgment.need_id.in_(need_ids or {-1}))
    if bureau:
        q = q.where(Judgment.need_id.in_(select(Need.id).where(Need.bureau == bureau)))
    if since is not None:
        q = q.where(Judgment.created_at >= since)
    if until is not None:
        q = q.where(Judgment.created_at < until)
    grouped: dict[tuple[int, str, int], list[Judgment]] = defaultdict(list)
    for j in db.session.scalars(q):
        grouped[(j.need_id, j.target_kind, j.target_id)].append(j)
    out = []
    for (need_id, kind, target_id), rows in grouped.items():
        by_source = {r.source: r for r in rows}
        if "mark" in by_source:
            relevance = by_source["mark"].relevance
        elif "meeting" in by_source:
            relevance = 2.0
        elif "declined" in by_source:
            relevance = 0.0
        else:
            relevance = max(r.relevance for r in rows)
        # The matcher's estimate when first judged (what it said before anyone decided).
        scored = [r for r in rows if r.probability is not None]
        first = min(scored, key=lambda r: r.id) if scored else None
        out.append(Verdict(need_id, kind, target_id, relevance,
                           first.probability if first else None, first.band if first else ""))
    return out


def qid(need_id: int) -> str:
    return f"need-{need_id}"


def docid(kind: str, target_id: int) -> str:
    return f"{kind}-{target_id}"


def write_qrels(fh, items: list[Verdict]) -> int:
    """`query-id<TAB>corpus-id<TAB>score` lines (matching.evaluation.read_qrels's format)."""
    fh.write("query-id\tcorpus-id\tscore\n")
    for v in sorted(items, key=lambda v: (v.need_id, v.kind, v.target_id)):
        grade = int(v.relevance) if float(v.relevance).is_integer() else v.relevance
        fh.write(f"{qid(v.need_id)}\t{docid(v.kind, v.target_id)}\t{grade}\n")
    return len(items)


def write_corpus_and_queries(corpus_fh, queries_fh, items: list[Verdict]) -> tuple[int, int]:
    """The texts behind the qrels, as `python -m matching evaluate --corpus/--queries` reads them.

    The corpus holds every judged candidate (a proposal's parts, an organisation's
    capability profile); the queries the judged needs' matching text."""
    need_ids = sorted({v.need_id for v in items})
    for need in db.session.scalars(select(Need).where(Need.id.in_(need_ids or [-1])).order_by(Need.id)):
        queries_fh.write(json.dumps({"id": qid(need.id), "text": need.matching_text()}, ensure_ascii=False) + "\n")
    written = 0
    for kind, model in (("proposal", Proposal), ("org", Organisation)):
        ids = sorted({v.target_id for v in items if v.kind == kind})
        for obj in db.session.scalars(select(model).where(model.id.in_(ids or [-1])).order_by(model.id)):
            doc = _texts(obj)
            if doc:
                corpus_fh.write(json.dumps({"id": docid(kind, obj.id), "texts": doc}, ensure_ascii=False) + "\n")
                written += 1
    return written, len(need_ids)


def _texts(obj) -> list[str]:
    """What the matcher reads of a candidate (also for declined proposals, which leave the index)."""
    if isinstance(obj, Proposal):
        parts = ["\n".join(p for p in (obj.title, obj.summary) if p), obj.solution or "", obj.track_record or ""]
    else:
        parts = obj.capability_texts()
    return [t for t in parts if t and t.strip()]


# --- precision by band (KPI) --------------------------------------------------------------------

def precision_by_band(need_ids: set[int] | None = None, **scope) -> list[dict]:
    """Among judged suggestions, per band of the matcher's estimate: how many, how many
    judged relevant, precision, and the mean predicted probability (for calibration).
    `scope`: bureau, since, until (see verdicts)."""
    rows = []
    items = [v for v in verdicts(need_ids, **scope) if v.probability is not None]
    for band in BANDS:
        chosen = [v for v in items if (v.band or band_of(v.probability)) == band]
        relevant = sum(1 for v in chosen if v.relevance > 0)
        rows.append({
            "band": band, "judged": len(chosen), "relevant": relevant,
            "precision": relevant / len(chosen) if chosen else None,
            "predicted": sum(v.probability for v in chosen) / len(chosen) if chosen else None,
        })
    total = len(items)
    relevant = sum(1 for v in items if v.relevance > 0)
    rows.append({"band": "all", "judged": total, "relevant": relevant,
                 "precision": relevant / total if total else None,
                 "predicted": sum(v.probability for v in items) / total if total else None})
    return rows


