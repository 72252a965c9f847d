"""The proposer's rating form on the case page posts here."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.extensions import db
from oims.models import Proposal
from oims.policy import can_view_proposal
from oims.ratings import services

bp = Blueprint("ratings", __name__, url_prefix="/ratings")


@bp.post("/proposals/<int:proposal_id>")
@login_required
def rate(proposal_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_proposal(current_user, proposal) \
            or proposal.org_id != current_user.organisation_id:
        abort(404)
    try:
        services.rate_owner(proposal, {k: request.form.get(k) for k in services.CRITERIA}, actor=current_user)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        return render_template("ratings/rate.html", proposal=proposal, rating_errors=exc.errors,
                               rating_values=request.form, state=services.rating_state(proposal, current_user)), 400
    db.session.commit()
    flash(_("Thank you. Your rating counts in the owner's averages, which show only once there are at least "
            "five ratings and never individually."), "success")
    return redirect(url_for("brokerage.case", proposal_id=proposal.id))
