"""Help while an owner drafts a need: a deterministic quality check of the
form fields (in the spirit of EEN's pre-publication scoring), similar past
needs with what they drew, and the words proposers use for the same thing.

Everything works from the form's values (a dict as NeedForm.values() gives),
so the page can check an unsaved draft."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from oims.core.reference import PROPOSER_KINDS
from oims.core.timeutil import today_local
from oims.core.vocabulary import PUBLIC_NEED_STATUSES
from oims.extensions import db
from oims.matcher.service import service
from oims.models import Meeting, Need, Organisation, Proposal
from oims.needs.search import normalise
from oims.policy import need_filter

MIN_PROBLEM_CHARS = 40
MIN_SOUGHT_CHARS = 30
MIN_DEADLINE_DAYS = 14
# Wording that says what is NOT wanted (Japanese and English).
OUT_OF_SCOPE_MARKERS = ("対象外", "除く", "除き", "含まない", "含みません", "不要", "求めていない", "求めません",
                        "範囲外", "out of scope", "not included", "excluding", "excluded", "we do not need",
                        "not looking for")
_BUDGET = re.compile(r"[0-9０-９]|円|万|億|千|yen|jpy|¥", re.I)
_SPLIT = re.compile(r"[,、，;；\n]+")


@dataclass(frozen=True)
class CheckItem:
    key: str
    label: str
    ok: bool
    explanation: str


def _text(values: dict, name: str) -> str:
    return str(values.get(name) or "").strip()


def keyword_list(values: dict) -> list[str]:
    raw = values.get("keywords") or ""
    items = raw if isinstance(raw, list) else _SPLIT.split(str(raw))
    return [k.strip() for k in items if k and k.strip()]


def quality_check(values: dict, today: date | None = None) -> tuple[list[CheckItem], int]:
    """Six rules over the form fields; returns (items, score 0–100)."""
    today = today or today_local()
    problem = _text(values, "background")
    sought = _text(values, "sought")
    deadline = values.get("deadline")
    budget = _text(values, "budget")
    everything = normalise(" ".join(_text(values, f) for f in ("summary", "background", "sought")))
    items = [
        CheckItem("problem", str(_l("The problem")), len(problem) >= MIN_PROBLEM_CHARS,
                  str(_l("「Background and problem」 says what is wrong today and why it matters "
                         "(at least %(n)d characters; now %(m)d).", n=MIN_PROBLEM_CHARS, m=len(problem)))),
        CheckItem("sought", str(_l("The technology sought")), len(sought) >= MIN_SOUGHT_CHARS,
                  str(_l("「Technology or capability sought」 names the technology, its level and the evidence "
                         "you expect (at least %(n)d characters; now %(m)d).", n=MIN_SOUGHT_CHARS, m=len(sought)))),
        CheckItem("partnership", str(_l("The partnership type")), bool(values.get("partnership_types")),
                  str(_l("At least one partnership type is chosen, so proposers know what kind of deal you "
                         "offer."))),
        CheckItem("deadline", str(_l("The deadline")),
                  isinstance(deadline, date) and deadline >= today + timedelta(days=MIN_DEADLINE_DAYS),
                  str(_l("A proposal deadline at least %(n)d days ahead gives small firms time to answer.",
                         n=MIN_DEADLINE_DAYS))),
        CheckItem("budget", str(_l("The budget range")), bool(_BUDGET.search(budget)),
                  str(_l("「Expected scale / budget」 gives an amount or a range (e.g. 500万〜1,000万円)."))),
        CheckItem("scope", str(_l("What is out of scope")), any(m in everything for m in OUT_OF_SCOPE_MARKERS),
                  str(_l("The text says what you do not want (e.g. 「〜は対象外」), which saves proposers "
                         "from proposing it."))),
    ]
    score = round(100 * sum(i.ok for i in items) / len(items))
    return items, score


# --- lexical similarity (character bigrams work for Japanese without a tokenizer) ----------

def _grams(text: str) -> set[str]:
    t = re.sub(r"\s+", " ", normalise(text))
    return {t[i:i + 2] for i in range(len(t) - 1) if not t[i:i + 2].isspace()}


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / (len(a | b) or 1)


def draft_text(values: dict) -> str:
    return "\n".join([_text(values, f) for f in ("title", "summary", "background", "sought")]
                     + keyword_list(values))


@dataclass(frozen=True)
class SimilarNeed:
    need: Need
    score: float
    proposals: int
    meetings: int


def similar_needs(values: dict, *, user, exclude_id: int | None = None, k: int = 5,
                  scan: int = 2000) -> list[SimilarNeed]:
    """Published or closed needs most like the draft that `user` may see (an
    owner: published ones and its own organisation's), with how many proposals
    and meetings they drew. The matcher's needs collection when it runs, else
    character-bigram overlap over the latest `scan` needs."""
    text = draft_text(values)
    if len(text.strip()) < 4:
        return []
    scored: list[tuple[int, float]] = []
    try:
        svc = service()
        results = svc.search("needs", text, k=k * 3) if svc.enabled else None
    except Exception:  # the matcher is an optional helper here
        results = None
    if results:
        scored = [(r.id, float(r.score)) for r in results]
    else:
        mine = _grams(text)
        rows = db.session.execute(select(Need.id, Need.search_text).where(
            Need.status.in_(PUBLIC_NEED_STATUSES), need_filter(user)).order_by(Need.id.desc()).limit(scan)).all()
        scored = sorted(((nid, _similarity(mine, _grams(st or ""))) for nid, st in rows),
                        key=lambda p: -p[1])[:k * 3]
        scored = [(nid, s) for nid, s in scored if s >= 0.05]
    ids = [nid for nid, _s in scored if nid != exclude_id]
    if not ids:
        return []
    needs = {n.id: n for n in db.session.scalars(select(Need).where(
        Need.id.in_(ids), Need.status.in_(PUBLIC_NEED_STATUSES), need_filter(user)))}
    proposals = dict(db.session.execute(select(Proposal.need_id, func.count(Proposal.id)).where(
        Proposal.need_id.in_(ids), Proposal.submitted_at.is_not(None)).group_by(Proposal.need_id)).all())
    meetings = dict(db.session.execute(select(Proposal.need_id, func.count(Meeting.id)).join(
        Meeting, Meeting.proposal_id == Proposal.id).where(
        Proposal.need_id.in_(ids), Meeting.status != "cancelled").group_by(Proposal.need_id)).all())
    out = [SimilarNeed(needs[nid], s, proposals.get(nid, 0), meetings.get(nid, 0))
           for nid, s in scored if nid in needs]
    return out[:k]


def proposer_words(values: dict, *, k: int = 8, profiles: int = 10, scan: int = 3000) -> list[str]:
    """Technologies from the capability profiles closest to the draft that the
    draft does not use yet: how proposers in other industries say the same thing."""
    text = draft_text(values)
    if len(text.strip()) < 4:
        return []
    mine = _grams(text)
    have = normalise(text)
    rows = db.session.scalars(select(Organisation).where(
        Organisation.kind.in_(PROPOSER_KINDS), Organisation.status == "active").order_by(
        Organisation.id.desc()).limit(scan)).all()
    ranked = sorted(((_similarity(mine, _grams("\n".join(o.capability_texts()))), o) for o in rows),
                    key=lambda p: -p[0])
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for rank, (score, org) in enumerate(ranked[:profiles]):
        if score <= 0:
            break
        for term in org.technologies or []:
            term = str(term).strip()
            if not term or len(term) > 40 or normalise(term) in have:
                continue
            counts[term] += 1
            first_seen.setdefault(term, rank)
    return sorted(counts, key=lambda t: (-counts[t], first_seen[t]))[:k]
