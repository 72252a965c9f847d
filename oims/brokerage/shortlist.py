"""Ranked lists and the shortlist: the proposals to a need ranked by the
matcher, organisations recommended to a need (推薦候補) and invited to propose,
needs ranked for an organisation, and forwarding a shortlist to the need's
owner. Every function flushes; the caller commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from oims.audit.log import audit
from oims.brokerage.services import active_users, judged, link, ui_locale
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.mail import notify
from oims.core.reference import INDUSTRY_BY_CODE, PROPOSER_KINDS
from oims.core.timeutil import today_local
from oims.core.vocabulary import INACTIVE_STAGES, SHORTLISTABLE_STAGES, NeedStatus, ProposalStage
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.bands import Calibrated, calibrate
from oims.models import Invitation, Need, Organisation, Proposal, ProposalEvent, User
from oims.models.base import utcnow
from oims.policy import owner_label, proposal_filter, visible_reasons
from oims.proposals.workflow import change_stage
from oims.web.pagination import ListPage


@dataclass
class RankedProposal:
    proposal: Proposal
    rank: int | None = None
    score: float | None = None
    reasons: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    fit: Calibrated | None = None  # calibrated chance of relevance, with its band


def _need_proposals(need: Need, user: User, industry: str | None = None) -> tuple[list[int], set[int]]:
    """(ids of the proposals to `need` that `user` may see, in the order received;
    the organisations that proposed to it, drafts and withdrawn ones included),
    in one query. `industry` (a JSIC division code) keeps the visible proposals of
    proposers in that industry."""
    visible = and_(Proposal.stage != ProposalStage.DRAFT, proposal_filter(user))
    q = select(Proposal.id, Proposal.org_id, visible.label("visible")).where(Proposal.need_id == need.id)
    if industry in INDUSTRY_BY_CODE:
        q = (q.join(Organisation, Organisation.id == Proposal.org_id)
             .add_columns((Organisation.industry == industry).label("in_industry")))
    ids, orgs = [], set()
    for row in db.session.execute(q.order_by(Proposal.submitted_at, Proposal.id)):
        orgs.add(row.org_id)
        if row.visible and getattr(row, "in_industry", True):
            ids.append(row.id)
    return ids, orgs


def _ranked_order(need: Need, ids: list[int]) -> tuple[list[int], dict, bool]:
    """(`ids` best first, the matcher's hit per ranked id, whether the matcher answered);
    ids the matcher has not indexed yet come last, in their given order."""
    ranking = ms.rank_proposals(need)
    hits: dict[int, object] = {}
    if ranking is not None:
        visible = set(ids)
        for hit in ranking:
            if hit.id in visible and hit.id not in hits:
                hits[hit.id] = hit
    order = list(hits) + [i for i in ids if i not in hits]
    return order, hits, ranking is not None


def _rows(user: User, order: list[int], hits: dict, start: int = 0) -> list[RankedProposal]:
    """The rows of `order` (ranks counted from `start`), their proposals and
    organisations in one query (plus their events: staged disclosure reads them)."""
    if not order:
        return []
    props = {p.id: p for p in db.session.scalars(
        select(Proposal).where(Proposal.id.in_(order)).options(joinedload(Proposal.org))).unique()}
    # Staged disclosure reads the events of proposals with sections kept until the NDA:
    # theirs in one query, and none when the page has no such proposal (most pages).
    staged = [p for p in props.values() if p.after_nda and "events" not in inspect(p).dict]
    if staged:
        events: dict[int, list] = {p.id: [] for p in staged}
        for e in db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id.in_(list(events)))
                                    .order_by(ProposalEvent.id)):
            events[e.proposal_id].append(e)
        for p in staged:
            set_committed_value(p, "events", events[p.id])
    rows = []
    for pos, pid in enumerate(order, start):
        proposal = props.get(pid)
        if proposal is None:  # deleted since the ids were read
            continue
        hit = hits.get(pid)
        if hit is None:
            rows.append(RankedProposal(proposal))
        else:
            reasons = visible_reasons(user, proposal, hit.reasons, hit.parts)  # staged disclosure
            rows.append(RankedProposal(proposal, pos + 1, hit.score, reasons, hit.parts, calibrate(hit)))
    return rows


def ranked_proposals(need: Need, user: User, industry: str | None = None) -> tuple[list[RankedProposal], bool]:
    """The proposals to `need` that `user` may see, best first; `industry` (a
    JSIC division code) keeps those of proposers in that industry.

    Returns (rows, ranked); rows the matcher has not indexed yet come last."""
    order, hits, ranked = _ranked_order(need, _need_proposals(need, user, industry)[0])
    return _rows(user, order, hits), ranked


def ranked_page(need: Need, user: User, page: int, per_page: int,
                industry: str | None = None) -> tuple[ListPage, bool]:
    """One page of `ranked_proposals`: ranked over all of them, but only the
    page's proposals (and their organisations) are loaded. Returns (page, ranked);
    `page.items` are RankedProposal rows."""
    ids, proposed = _need_proposals(need, user, industry)
    order, hits, ranked = _ranked_order(need, ids)
    out = ListPage(order, page, per_page)
    out.items = _rows(user, out.items, hits, start=(out.page - 1) * per_page)
    out.proposed_org_ids = proposed  # for the recommendations (never those who proposed)
    return out, ranked


def ranks_and_fits(need: Need, ids) -> tuple[dict[int, int], dict[int, Calibrated]]:
    """The rank and calibrated fit of each of `ids` in the need's ranking (for the shortlist's judgments)."""
    order, hits, _ranked = _ranked_order(need, list(ids))
    return ({pid: pos + 1 for pos, pid in enumerate(order) if pid in hits},
            {pid: calibrate(hit) for pid, hit in hits.items()})


@dataclass
class Recommendation:
    org: Organisation
    rank: int
    score: float
    reasons: list
    invitation: Invitation | None = None
    fit: Calibrated | None = None


def recommendation_filters(args: dict) -> dict:
    """Matcher filters from the recommendation form (blank values ignored)."""
    out = {}
    for key in ("bureau", "prefecture", "kind", "employee_band", "certifications", "industry"):
        value = args.get(key)
        if value:
            out[key] = value
    return out


RECOMMENDATIONS_K = 100  # organisations recommended per need (shown a page at a time)


def recommendations(need: Need, filters: dict | None = None, k: int = RECOMMENDATIONS_K,
                    invitations: list[Invitation] | None = None) -> list[Recommendation] | None:
    """Organisations that could answer `need` and have not proposed (推薦候補).

    `invitations`: the need's invitations, when the caller has them already."""
    page = recommendation_page(need, filters, 1, k, k=k, invitations=invitations)
    return None if page is None else page.items


def recommendation_page(need: Need, filters: dict | None, page: int, per_page: int, *, k: int,
                        invitations: list[Invitation] | None = None, proposed: set[int] | None = None,
                        also_load: set[int] = frozenset()) -> ListPage | None:
    """One page of the `k` best recommendations (ranked over all `k`; only the
    page's organisations are loaded), or None while the matcher is unavailable.

    `proposed`: the organisations that proposed to the need, when the caller has
    them; `also_load`: other organisations the caller needs, loaded in the same
    query (`page.orgs` holds them all)."""
    if proposed is None:
        proposed = set(db.session.scalars(select(Proposal.org_id).where(Proposal.need_id == need.id)))
    results = ms.recommend_orgs(need, filters=filters, exclude_ids=proposed | {need.owner_org_id}, k=k)
    if results is None:
        return None
    # The orgs collection holds proposing organisations only; one whose kind changed
    # since it was indexed is left out below (its number skipped until the index follows).
    out = ListPage(list(results), page, per_page)
    start = (out.page - 1) * per_page
    wanted = {r.id for r in out.items} | set(also_load)
    orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(wanted)))} if wanted else {}
    if invitations is None:
        invitations = db.session.scalars(select(Invitation).where(Invitation.need_id == need.id)).all()
    invited = {i.org_id: i for i in invitations}
    out.items = [Recommendation(orgs[r.id], pos + 1, r.score, r.reasons, invited.get(r.id),
                                calibrate(r, kind="orgs"))
                 for pos, r in enumerate(out.items, start) if r.id in orgs and orgs[r.id].kind in PROPOSER_KINDS]
    out.orgs = orgs
    return out


def invite_org(need: Need, org: Organisation, *, actor: User, message: str = "",
               score: float | None = None, rank: int | None = None) -> Invitation:
    """Invite a recommended organisation to propose; tells its users (anonymity respected)."""
    if need.status != NeedStatus.PUBLISHED:
        raise ValidationFailed(_("Only published needs can receive invitations."))
    if org.kind not in PROPOSER_KINDS or org.id == need.owner_org_id or org.is_disabled:
        raise ValidationFailed(_("This organisation cannot propose to this need."))
    if db.session.scalar(select(Invitation.id).where(Invitation.need_id == need.id,
                                                     Invitation.org_id == org.id)):
        raise ValidationFailed(_("This organisation has already been invited."))
    if db.session.scalar(select(Proposal.id).where(Proposal.need_id == need.id, Proposal.org_id == org.id,
                                                   Proposal.stage.notin_(INACTIVE_STAGES))):
        raise ValidationFailed(_("This organisation has already proposed."))
    inv = Invitation(need_id=need.id, org_id=org.id, coordinator_id=actor.id, message=message.strip(),
                     match_score=score, match_rank=rank)
    db.session.add(inv)
    db.session.flush()
    audit(actor, "brokerage.invited", inv, need_id=need.id, org_id=org.id, rank=rank)
    judged(need, org, "invite", actor, fit=calibrate(score, kind="orgs") if score is not None else None,
           rank=rank)
    url = link("needs.view", need_id=need.id) or link("brokerage.fit_check", need_id=need.id)
    for user in active_users(org.id):
        def text(u=user):
            return _("A coordinator invites you to propose to the need “%(title)s” (%(owner)s)",
                     title=need.title, owner=owner_label(need, u, ui_locale()))

        notify(user, "brokerage_invitation", text, url, email_template="brokerage_invitation",
               subject=lambda: _("[OIMS] Invitation to propose"), need=need,
               owner=lambda u=user: owner_label(need, u, ui_locale()), message=inv.message,
               coordinator=actor)
    return inv


def forward_shortlist(need: Need, proposals: list[Proposal], *, actor: User, comment: str,
                      ranks: dict[int, int] | None = None,
                      fits: dict[int, Calibrated | None] | None = None) -> list[Proposal]:
    """Shortlist proposals and forward them to the need's owner with a comment."""
    if not proposals:
        raise ValidationFailed({"proposal_ids": [_("Select at least one proposal.")]})
    ranks = ranks or {}
    due = today_local() + timedelta(days=current_app.config["OIMS_RESPONSE_DAYS"])
    for prop in proposals:
        if prop.need_id != need.id:
            raise NotAllowed()
        if prop.stage not in SHORTLISTABLE_STAGES:
            raise ValidationFailed(_("“%(title)s” cannot be shortlisted in its current stage.",
                                     title=prop.title))
        if prop.stage == ProposalStage.SUBMITTED:
            change_stage(prop, ProposalStage.SCREENING, actor, notify_proposer=False)
        change_stage(prop, ProposalStage.SHORTLISTED, actor, note=comment)
        prop.forwarded_at = utcnow()
        prop.forward_comment = comment
        prop.shortlisted_by_id = actor.id
        prop.shortlist_rank = ranks.get(prop.id)
        prop.response_due = due
        judged(need, prop, "shortlist", actor, fit=(fits or {}).get(prop.id), rank=ranks.get(prop.id))
    db.session.flush()
    for user in active_users(need.owner_org_id):
        notify(user, "brokerage_forwarded",
               lambda: _("%(count)d proposal(s) were forwarded to you for “%(title)s”",
                         count=len(proposals), title=need.title),
               link("brokerage.inbox"), email_template="brokerage_forwarded",
               subject=lambda: _("[OIMS] Proposals forwarded to you"), need=need, proposals=proposals,
               comment=comment, due=due)
    return proposals


def needs_for_org(org: Organisation, k: int = 8) -> list[tuple[Need, Calibrated | None, list]] | None:
    """Open published needs ranked against the organisation's capability profile,
    with their calibrated band; never its own needs, closed ones (deadline passed,
    even before the closing job ran) or needs it has already proposed to."""
    proposed = set(db.session.scalars(select(Proposal.need_id).where(Proposal.org_id == org.id)))
    own = set(db.session.scalars(select(Need.id).where(Need.owner_org_id == org.id)))
    results = ms.needs_for_org(org, exclude_ids=proposed | own, k=2 * k)
    if results is None:
        return None
    needs = {n.id: n for n in db.session.scalars(select(Need).where(
        Need.id.in_([r.id for r in results]), Need.status == NeedStatus.PUBLISHED, Need.owner_org_id != org.id,
        Need.deadline >= today_local()))}
    return [(needs[r.id], calibrate(r), r.reasons) for r in results if r.id in needs][:k]
