"""The proposer's rating form on the case page posts here."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.extensions import db
from oims.models import Proposal
from oims.policy import can_view_proposal
from oims.ratings import services
from oims.web.actions import run_action

bp = Blueprint("ratings", __name__, url_prefix="/ratings")


@bp.post("/proposals/<int:proposal_id>")
@login_required
def rate(proposal_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_proposal(current_user, proposal) \
            or proposal.org_id != current_user.organisation_id:
        abort(404)
    return run_action(
        lambda: services.rate_owner(proposal, {k: request.form.get(k) for k in services.CRITERIA},
                                    actor=current_user),
        success=_("Thank you. Your rating counts in the owner's averages, which show only once there are at least "
                  "five ratings and never individually."),
        redirect_to=url_for("brokerage.case", proposal_id=proposal.id),
        # the form shows each criterion's errors next to it (keyed, no WTForms form)
        on_refused=lambda exc, status: (render_template(
            "ratings/rate.html", proposal=proposal, rating_errors=exc.errors, rating_values=request.form,
            state=services.rating_state(proposal, current_user)), status))
