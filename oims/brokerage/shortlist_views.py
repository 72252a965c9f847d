"""The coordinator's page of a need (routes on the brokerage blueprint):
proposals ranked by the matcher, recommended organisations (推薦候補),
invitations and forwarding a shortlist to the need owner."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from oims.brokerage.forms import CandidateFilterForm, InviteForm, RecommendFilterForm, ShortlistForm
from oims.brokerage.shortlist import (
    RECOMMENDATIONS_K,
    forward_shortlist,
    invite_org,
    ranked_page,
    ranks_and_fits,
    recommendation_filters,
    recommendation_page,
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

CANDIDATES_PER_PAGE = 50
RECOMMENDATIONS_PER_PAGE = 20


def _managed_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id, options=[joinedload(Need.owner_org)])  # its owner's name is shown
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
    # Ranked over all proposals, shown a page at a time: only the page's proposals
    # and their organisations are loaded (one query), whatever the number of proposals.
    page, ranked = ranked_page(need, current_user, request.args.get("page", 1, type=int), CANDIDATES_PER_PAGE,
                               cand_filter.cand_industry.data or None)
    invitations = db.session.scalars(select(Invitation).where(Invitation.need_id == need.id)
                                     .order_by(Invitation.id)).all()
    invited = {i.org_id for i in invitations}
    recs = (recommendation_page(need, chosen, request.args.get("rec_page", 1, type=int), RECOMMENDATIONS_PER_PAGE,
                                k=RECOMMENDATIONS_K, invitations=invitations, proposed=page.proposed_org_ids,
                                also_load=invited)
            if need.status == NeedStatus.PUBLISHED else None)
    shortlist_form = shortlist_form or ShortlistForm()
    # Ticked boxes of a refused shortlist that are on other pages travel as hidden fields.
    on_page = {r.proposal.id for r in page.items}
    kept = [pid for pid in (shortlist_form.proposal_ids.data or []) if pid not in on_page]
    if recs is not None:
        orgs = recs.orgs
    else:
        orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(
            Organisation.id.in_(invited)))} if invited else {}
    endorsers = _endorsers([r.proposal.org for r in page.items] + [r.org for r in (recs.items if recs else [])])
    return render_template(
        "brokerage/need.html", need=need, page=page, ranked=ranked,
        recs=recs.items if recs is not None else (None if need.status == NeedStatus.PUBLISHED else []),
        rec_page=recs,
        filters=filters, cand_filter=cand_filter, shortlist_form=shortlist_form, kept_ids=kept,
        invite_form=InviteForm(), invitations=invitations, inv_orgs=orgs,
        status=ms.service().status(), stats=response_stats(need.owner_org_id),
        errors=errors or [], stages=stage_labels(), owner=owner_label(need, current_user, current_locale()),
        marks=marks_for(need), endorsers=endorsers,
    ), status


def _endorsers(orgs: list[Organisation]) -> list[Organisation]:
    """The organisations that endorsed those shown, in one query: each badge names its
    endorser, which would otherwise be loaded one by one (held until the page is rendered:
    the session's identity map is weak)."""
    endorsed = current_app.jinja_env.globals.get("endorsed")
    if endorsed is None:
        return []
    ids = {e.endorser_org_id for org in orgs for e in endorsed(org.id)}
    return db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))).all() if ids else []


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
    ranks, fits = ranks_and_fits(need, visible)
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
