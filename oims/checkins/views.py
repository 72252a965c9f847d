"""The check-in page reached from the e-mail link: no sign-in, the signed
token names the check-in and the party answering."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from oims.checkins import services
from oims.checkins.forms import CheckInForm
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.extensions import db
from oims.models import Proposal
from oims.web.forms import apply_errors

bp = Blueprint("checkins", __name__, url_prefix="/checkin")


def _page(checkin, user, form, status=200, done=False):
    proposal = db.session.get(Proposal, checkin.proposal_id)
    return render_template("checkins/answer.html", checkin=checkin, user=user, proposal=proposal, form=form,
                           labels=services.answer_labels(), done=done), status


@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str):
    found = services.read_token(token)
    if found is None:
        abort(404)
    checkin, user = found
    form = CheckInForm()
    form.fill_choices(services.answer_labels())
    if checkin.answered_at is not None or not form.is_submitted():
        return _page(checkin, user, form, done=checkin.answered_at is not None)
    if not form.validate():
        return _page(checkin, user, form, 400)
    # Not run_action: this page is reached without signing in, so a refusal is 404 (the
    # link does not reveal the case), the page is shown again rather than redirected to,
    # and a lost race shows the answer already given.
    try:
        services.answer_checkin(checkin, actor=user, answer=form.answer.data or "", note=form.note.data or "")
    except NotAllowed:
        db.session.rollback()
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        db.session.refresh(checkin)
        general = apply_errors(form, exc)
        form.answer.errors = list(form.answer.errors) + general
        return _page(checkin, user, form, 400, done=checkin.answered_at is not None)
    db.session.commit()
    return _page(checkin, user, form, done=True)

