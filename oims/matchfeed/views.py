"""Judgment marks on the coordinator's ranked lists, alert settings and the
login-free unsubscribe link. Access first, then a service, one commit."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.brokerage.shortlist import recommendations
from oims.brokerage.shortlist_views import _render_need
from oims.core.reference import PROPOSER_KINDS
from oims.core.vocabulary import ProposalStage
from oims.extensions import db
from oims.matcher import service as ms
from oims.matcher.bands import calibrate
from oims.matchfeed import alerts, judgments
from oims.matchfeed.forms import AlertSettingsForm, JudgeForm
from oims.models import Need, Organisation, Proposal
from oims.policy import can_manage_need, can_view_proposal
from oims.web.actions import run_action

bp = Blueprint("matchfeed", __name__, url_prefix="/matching")

log = logging.getLogger(__name__)


def _managed_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not can_manage_need(current_user, need):
        abort(404)
    return need


def _fit_of(need: Need, kind: str, target_id: int):
    """The candidate's calibrated estimate and rank in the list the coordinator saw."""
    try:
        if kind == "proposal":
            for hit in ms.rank_proposals(need) or []:
                if hit.id == target_id:
                    return calibrate(hit), None
        else:
            for rec in recommendations(need) or []:
                if rec.org.id == target_id:
                    return rec.fit, rec.rank
    except Exception:
        log.warning("no matcher estimate for a judgment", exc_info=True)
    return None, None


@bp.post("/need/<int:need_id>/judge")
@login_required
def judge(need_id: int):
    need = _managed_need(need_id)
    form = JudgeForm()
    target_id = int(form.target_id.data) if (form.target_id.data or "").isdigit() else None
    if not form.validate_on_submit() or target_id is None:
        return _render_need(need, 400, [_("The mark was not saved: choose relevant or not relevant.")])
    if form.kind.data == "proposal":
        target = db.session.get(Proposal, target_id)
        if (target is None or target.need_id != need.id or target.stage == ProposalStage.DRAFT
                or not can_view_proposal(current_user, target)):
            abort(404)
    else:
        target = db.session.get(Organisation, target_id)
        if target is None or target.kind not in PROPOSER_KINDS or target.id == need.owner_org_id:
            abort(404)
    fit, rank = _fit_of(need, form.kind.data, target.id)
    anchor = "#ranked-h" if form.kind.data == "proposal" else "#recs-h"
    return run_action(
        lambda: judgments.record(need, target, "mark", actor=current_user, relevance=float(form.relevant.data),
                                 fit=fit, rank=rank),
        success=_("Your mark was saved. It helps measure the matcher."),
        redirect_to=url_for("brokerage.need", need_id=need.id) + anchor,
        on_invalid=lambda errors, status: _render_need(need, status, errors),
    )


@bp.route("/alerts", methods=["GET", "POST"])
@login_required
def alert_settings():
    sub = alerts.subscription(current_user)
    form = AlertSettingsForm(obj=sub) if request.method == "GET" else AlertSettingsForm()
    applies = current_user.is_proposer and current_user.organisation.is_proposer_kind
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("matchfeed/alerts.html", form=form, applies=applies), 400
        return run_action(
            lambda: alerts.set_subscription(current_user, on_publish=form.on_publish.data,
                                            weekly_digest=form.weekly_digest.data),
            success=_("Your alert settings were saved."),
            redirect_to=url_for("matchfeed.alert_settings"),
            on_invalid=lambda errors, status: (
                render_template("matchfeed/alerts.html", form=form, applies=applies), status),
            form=form,
        )
    return render_template("matchfeed/alerts.html", form=form, applies=applies)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """From an e-mail, without logging in: the signed token names the user."""
    # Not `run_action`: a link opened from an e-mail shows its result page
    # rather than redirecting, and a bad token is the only refusal.
    user = alerts.unsubscribe(token)
    if user is None:
        return render_template("matchfeed/unsubscribed.html", ok=False), 400
    db.session.commit()
    return render_template("matchfeed/unsubscribed.html", ok=True)
