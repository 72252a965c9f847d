"""Finding needs: the search text kept on each need, Japanese substring search,
filters, sort, pagination; owners' and coordinators' lists.

At national scale (10k needs and more) the search is served by two indexes
(see oims.models.needs): trigrams for `LIKE '%term%'` on PostgreSQL, and the
listing order, so a page of a common term stops after its rows. The total is
counted only when the page does not tell it (a last page knows its total), and
the count stops at OIMS_SEARCH_COUNT_CAP matches: the page then says
"more than 1,000 needs" (`total_capped`)."""

from __future__ import annotations

import json
import unicodedata
from datetime import date

from flask import current_app
from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from oims.core import reference as ref
from oims.core.vocabulary import INACTIVE_STAGES, NeedStatus, ProposalStage
from oims.extensions import db
from oims.models import Need, Organisation, Proposal, User
from oims.needs.validation import as_date
from oims.policy import visible_needs
from oims.ratings.services import prefetch_owner_fairness

# --- the search text ---------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC + lower case: full-width letters, half-width kana and case all match."""
    return unicodedata.normalize("NFKC", text or "").lower()


def search_terms(q: str) -> list[str]:
    return [t for t in normalise(q).split() if t][:10]


def keyword_tag(keyword: str) -> str:
    return f"[{normalise(keyword).strip()}]"


def refresh_search_text(need: Need) -> None:
    """Rebuild Need.search_text. Anonymous needs carry their alias, never the
    owner's name, so searching for the firm cannot find them."""
    org = need.owner_org
    if need.anonymous:
        who = [need.alias, need.alias_en]
    else:
        who = [org.name, org.name_en, org.name_kana] if org else []
    parts = [need.title, need.summary, need.background, need.sought, " ".join(need.keywords or []),
             " ".join(w for w in who if w), " ".join(keyword_tag(k) for k in need.keywords or [])]
    need.search_text = normalise("\n".join(p for p in parts if p))


# --- search ------------------------------------------------------------------------------------------

SORTS = ("newest", "deadline")


COUNT_CAP_FROM_CONFIG = -1


def search_needs(user: User, q: str = "", filters: dict | None = None, sort: str = "newest", page: int = 1,
                 per_page: int | None = None, count_cap: int | None = COUNT_CAP_FROM_CONFIG):
    """Needs `user` may see matching `q` (space-separated terms, all must
    occur; Japanese works as substrings) and `filters`:

    - partnership: a partnership type code
    - keyword: a keyword (exact, normalised)
    - region: a bureau code; needs preferring that region or nationwide
    - deadline_before: date; deadline on or before it
    - new: truthy; published after `since` (default: user.last_needs_visit_at)
    - status: for staff and owners, a status (default: published)
    - industry, prefecture, org_kind, size: the owner organisation's JSIC
      division, prefecture, kind and employee band (h10). Industry and kind
      are in an anonymous need's alias; prefecture and size are not, so with
      those filters a user who may not know the owner of an anonymous need
      does not get it (it would narrow down who the owner is).
    Returns a Flask-SQLAlchemy pagination whose `total` stops at `count_cap`
    (default OIMS_SEARCH_COUNT_CAP; None counts every match): `total_capped`
    then says there are more than `total`, and `has_next` stays right.
    """
    filters = filters or {}
    query = visible_needs(user)
    status = filters.get("status") or NeedStatus.PUBLISHED
    if status != "all":
        query = query.where(Need.status == status)
    for term in search_terms(q):
        query = query.where(Need.search_text.contains(term, autoescape=True))
    if (pt := filters.get("partnership")) in ref.PARTNERSHIP_BY_CODE:
        query = query.where(cast(Need.partnership_types, Text).contains(f'"{pt}"'))
    if kw := (filters.get("keyword") or "").strip():
        # the normalised tag kept in search_text, or (rows made elsewhere) the exact JSON item
        query = query.where(or_(Need.search_text.contains(keyword_tag(kw), autoescape=True),
                                cast(Need.keywords, Text).contains(json.dumps(kw), autoescape=True)))
    if (region := filters.get("region")) in ref.BUREAU_BY_CODE:
        regions_text = cast(Need.regions, Text)
        query = query.where(or_(regions_text.contains(f'"{region}"'), regions_text.in_(("[]", "null")),
                                Need.regions.is_(None)))
    if isinstance(deadline_before := as_date(filters.get("deadline_before")), date):
        query = query.where(Need.deadline <= deadline_before)
    query = _owner_filters(query, user, filters)
    if filters.get("new"):
        since = filters.get("since") or user.last_needs_visit_at
        if since is not None:
            query = query.where(Need.published_at > since)
    if sort == "deadline":
        query = query.order_by(Need.deadline.asc(), Need.id.desc())
    else:
        query = query.order_by(func.coalesce(Need.published_at, Need.created_at).desc(), Need.id.desc())
    per_page = per_page or current_app.config.get("OIMS_PAGE_SIZE", 20)
    if count_cap == COUNT_CAP_FROM_CONFIG:
        count_cap = current_app.config.get("OIMS_SEARCH_COUNT_CAP", 1000) or None
    # The cards show each need's owner (or its alias) and fairness badge: one query each for the page.
    result = db.paginate(query.options(selectinload(Need.owner_org)), page=max(int(page or 1), 1),
                         per_page=per_page, error_out=False, count=False)
    result.total, result.total_capped = _count(query, result, count_cap)
    prefetch_owner_fairness(result.items)
    return result


def _count(query, result, cap: int | None) -> tuple[int, bool]:
    """(total, capped) of `query` for the page `result`, without a count when the
    page tells: a page that is not full is the last one."""
    seen = (result.page - 1) * result.per_page + len(result.items)
    if len(result.items) < result.per_page and (result.items or result.page == 1):
        return seen, False
    ids = query.with_only_columns(Need.id, maintain_column_froms=True).order_by(None)
    if cap is None:
        return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0, False
    # at least one row past this page, so that has_next stays true on the pages past the cap
    cap = max(cap, result.page * result.per_page + 1)
    found = db.session.scalar(select(func.count()).select_from(ids.limit(cap + 1).subquery())) or 0
    return min(found, cap), found > cap


def _owner_filters(query, user: User, filters: dict):
    checks = {"industry": (ref.INDUSTRY_BY_CODE, Organisation.industry),
              "prefecture": (ref.PREFECTURE_BY_CODE, Organisation.prefecture),
              "org_kind": (ref.ORG_KIND_BY_CODE, Organisation.kind),
              "size": (ref.EMPLOYEE_BAND_BY_CODE, Organisation.employee_band)}
    chosen = {name: filters[name] for name, (codes, _col) in checks.items() if filters.get(name) in codes}
    if not chosen:
        return query  # empty or unknown values are ignored
    owner = aliased(Organisation)
    query = query.join(owner, owner.id == Need.owner_org_id)
    for name, value in chosen.items():
        query = query.where(getattr(owner, checks[name][1].key) == value)
    if ({"prefecture", "size"} & set(chosen)) and not user.is_staff:
        query = query.where(or_(Need.anonymous.is_(False), Need.owner_org_id == user.organisation_id))
    return query


def my_needs(user: User) -> list[Need]:
    return list(db.session.scalars(select(Need).where(Need.owner_org_id == user.organisation_id)
                                   .order_by(Need.updated_at.desc(), Need.id.desc())))


def _review_query(user: User):
    query = select(Need).where(Need.status == NeedStatus.REVIEW)
    if not user.is_admin:
        query = query.where(Need.bureau == user.bureau)
    return query


def review_queue(user: User, limit: int | None = None) -> list[Need]:
    """Needs awaiting `user`'s review, oldest submission first (the first `limit`)."""
    query = _review_query(user).order_by(Need.submitted_at.asc(), Need.id.asc())
    return list(db.session.scalars(query.limit(limit) if limit else query))


def review_count(user: User) -> int:
    ids = _review_query(user).with_only_columns(Need.id, maintain_column_froms=True)
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def proposal_counts(need_ids: list[int]) -> dict[int, int]:
    if not need_ids:
        return {}
    rows = db.session.execute(select(Proposal.need_id, func.count(Proposal.id)).where(
        Proposal.need_id.in_(need_ids), Proposal.stage.notin_((ProposalStage.DRAFT, *INACTIVE_STAGES)))
        .group_by(Proposal.need_id))
    return dict(rows.all())


def has_active_proposal(user: User, need: Need) -> bool:
    return bool(db.session.scalar(select(Proposal.id).where(
        Proposal.need_id == need.id, Proposal.org_id == user.organisation_id,
        Proposal.stage.notin_(INACTIVE_STAGES)).limit(1)))
