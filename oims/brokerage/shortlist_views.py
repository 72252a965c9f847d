"""The coordinator's page of a need (routes on the brokerage blueprint):
proposals ranked by the matcher, recommended organisations (推薦候補),
invitations and forwarding a shortlist to the need owner."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from oims.brokerage.forms import CandidateFilterForm, InviteForm, RecommendFilterForm, ShortlistForm
from oims.brokerage.shortlist import (
    forward_shortlist,
    invite_org,
    ranked_proposals,
    recommendation_filters,
    recommendations,
)
from oims.brokerage.views import bp
from oims.brokerage.workspace import response_stats
from oims.core.vocabulary import NeedStatus, ProposalStage
from oims.extensions import db
from oims.matcher import service as ms
from oims.matchfeed.judgments import marks_for
from oims.models import Invitation, Need, Organisation, Proposal
from oims.policy import can_manage_need, owner_label, proposal_filter
from oims.proposals.workflow import stage_labels
from oims.web.actions import run_action
from oims.web.i18n import current_locale
from oims.web.pagination import ListPage

CANDIDATES_PER_PAGE = 50


def _managed_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not can_manage_need(current_user, need):
        abort(404)
    return need


def _render_need(need: Need, status: int = 200, errors: list[str] | None = None,
                 shortlist_form: ShortlistForm | None = None):
    filters = RecommendFilterForm(request.args, meta={"csrf": False})
    filters.fill_choices()
    if not filters.bureau.data and "bureau" not in request.args:
        filters.bureau.data = need.bureau
    chosen = recommendation_filters({f.name: f.data for f in filters})
    cand_filter = CandidateFilterForm(request.args, meta={"csrf": False})
    cand_filter.fill_choices()
    rows, ranked = ranked_proposals(need, current_user, cand_filter.cand_industry.data or None)
    # Ranked over all proposals, shown a page at a time; the page's organisations in one query.
    page = ListPage(rows, request.args.get("page", 1, type=int), CANDIDATES_PER_PAGE)
    page_org_ids = {r.proposal.org_id for r in page.items}
    # Held until the page is rendered: the session's identity map is weak, and
    # `proposal.org` then resolves from it without a query per row.
    page_orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(page_org_ids))).all() \
        if page_org_ids else []
    recs = recommendations(need, chosen) if need.status == NeedStatus.PUBLISHED else []
    shortlist_form = shortlist_form or ShortlistForm()
    shortlist_form.proposal_ids.choices = [(r.proposal.id, r.proposal.title) for r in rows]
    invitations = db.session.scalars(select(Invitation).where(Invitation.need_id == need.id)
                                     .order_by(Invitation.id)).all()
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_({i.org_id for i in invitations})))} if invitations else {}
    return render_template(
        "brokerage/need.html", need=need, rows=rows, page=page, page_orgs=page_orgs, all_scores=[r.score for r in rows], ranked=ranked, recs=recs, filters=filters, cand_filter=cand_filter,
        shortlist_form=shortlist_form, invite_form=InviteForm(), invitations=invitations, inv_orgs=orgs,
        status=ms.service().status(), stats=response_stats(need.owner_org_id),
        errors=errors or [], stages=stage_labels(), owner=owner_label(need, current_user, current_locale()),
        marks=marks_for(need),
    ), status


@bp.get("/need/<int:need_id>")
@login_required
def need(need_id: int):
    return _render_need(_managed_need(need_id))


@bp.post("/need/<int:need_id>/invite")
@login_required
def invite(need_id: int):
    need = _managed_need(need_id)
    form = InviteForm()
    org = db.session.get(Organisation, int(form.org_id.data)) if (form.org_id.data or "").isdigit() else None
    if org is None:
        abort(404)
    if not form.validate_on_submit():
        return _render_need(need, 400, [m for ms_ in form.errors.values() for m in ms_])
    return run_action(
        lambda: invite_org(need, org, actor=current_user, message=form.message.data or "",
                           score=_float(form.score.data), rank=_int(form.rank.data)),
        success=_("%(org)s was invited to propose.", org=org.display_name(current_locale())),
        redirect_to=url_for("brokerage.need", need_id=need.id),
        on_invalid=lambda errors, status: _render_need(need, status, errors),
    )


@bp.post("/need/<int:need_id>/shortlist")
@login_required
def shortlist(need_id: int):
    need = _managed_need(need_id)
    form = ShortlistForm()
    visible = {p.id: p for p in db.session.scalars(select(Proposal).where(
        Proposal.need_id == need.id, Proposal.stage != ProposalStage.DRAFT, proposal_filter(current_user)))}
    form.proposal_ids.choices = [(pid, p.title) for pid, p in visible.items()]
    if not form.validate_on_submit():
        return _render_need(need, 400, shortlist_form=form)
    chosen = [visible[pid] for pid in form.proposal_ids.data or [] if pid in visible]
    ranked = ranked_proposals(need, current_user)[0]
    ranks = {r.proposal.id: r.rank for r in ranked if r.rank}
    fits = {r.proposal.id: r.fit for r in ranked if r.fit}
    return run_action(
        lambda: forward_shortlist(need, chosen, actor=current_user, comment=form.comment.data, ranks=ranks,
                                  fits=fits),
        success=_("%(count)d proposal(s) were forwarded to the need owner.", count=len(chosen)),
        redirect_to=url_for("brokerage.need", need_id=need.id),
        on_invalid=lambda errors, status: _render_need(need, status, errors, shortlist_form=form),
        form=form,
    )


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
