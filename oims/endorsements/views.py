"""Endorsement pages: give one (endorsers), list and withdraw them, and the
coordinator's list of organisations allowed to endorse."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from oims.endorsements import services
from oims.endorsements.forms import EndorseForm, EndorserForm
from oims.extensions import db
from oims.models import Endorsement, Organisation
from oims.models.casework import ENDORSER_KINDS
from oims.policy import staff_required
from oims.web.actions import run_action
from oims.web.i18n import current_locale

bp = Blueprint("endorsements", __name__, url_prefix="/endorsements")


def _endorse_page(form, status=200, general=()):
    orgs = services.endorsable_orgs(current_user)
    form.org_id.choices = [(0, "—")] + [(o.id, o.display_name(current_locale())) for o in orgs]
    return render_template("endorsements/index.html", form=form, items=services.given_by(current_user),
                           kind=services.endorser_kind(current_user), kinds=services.kind_labels(),
                           general=list(general), orgs={o.id: o for o in orgs}), status


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    if not services.endorser_kind(current_user):
        abort(403)
    form = EndorseForm()
    if request.method == "GET":
        form.org_id.data = request.args.get("org_id", type=int)
        return _endorse_page(form)
    if not form.validate_on_submit():
        return _endorse_page(form, 400)
    org = db.session.get(Organisation, form.org_id.data or 0)
    if org is None:
        form.org_id.errors = [_("Choose an organisation.")]
        return _endorse_page(form, 400)
    return run_action(
        lambda: services.endorse(org, actor=current_user, capability=form.capability.data or "",
                                 note=form.note.data or "", expires_on=form.expires_on.data),
        success=lambda _result: _("Your endorsement of “%(cap)s” now shows on %(org)s's profile.",
                                  cap=form.capability.data.strip(), org=org.display_name(current_locale())),
        redirect_to=url_for("endorsements.index"), form=form,
        on_invalid=lambda errors, status: _endorse_page(form, status, errors))


@bp.post("/<int:endorsement_id>/withdraw")
@login_required
def withdraw(endorsement_id: int):
    item = db.session.get(Endorsement, endorsement_id)
    if item is None or not services.may_withdraw(current_user, item):
        abort(404)
    return run_action(
        lambda: services.withdraw(item, actor=current_user),
        success=_("The endorsement was withdrawn."),
        redirect_to=url_for("endorsements.index") if services.endorser_kind(current_user)
        else url_for("orgs.view", org_id=item.org_id),
        on_invalid=lambda errors, status: _back(errors, request.referrer or url_for("endorsements.index")))


def _back(errors: list[str], target: str):
    """A refused withdrawal: its message, and back to the page it came from."""
    for message in errors:
        flash(message, "warning")
    return redirect(target)


def _endorsers_page(form, status=200, general=()):
    q = select(Organisation).where(Organisation.kind.notin_(("large",))).order_by(Organisation.name)
    if not current_user.is_admin:
        q = q.where(Organisation.bureau == current_user.bureau)
    orgs = list(db.session.scalars(q))
    form.org_id.choices = [(0, "—")] + [(o.id, o.display_name(current_locale())) for o in orgs
                                        if not o.endorser_kind]
    form.kind.choices = [("", "—")] + list(services.kind_labels().items())
    return render_template("endorsements/endorsers.html", form=form, endorsers=[o for o in orgs if o.endorser_kind],
                           kinds=services.kind_labels(), general=list(general)), status


@bp.route("/endorsers", methods=["GET", "POST"])
@staff_required
def endorsers():
    form = EndorserForm()
    if request.method == "GET":
        return _endorsers_page(form)
    org = db.session.get(Organisation, form.org_id.data or 0) if form.validate_on_submit() else None
    if org is None:
        form.org_id.errors = [_("Choose an organisation.")]
        return _endorsers_page(form, 400)
    if form.kind.data not in ENDORSER_KINDS:
        form.kind.errors = [_("Choose the kind of support body.")]
        return _endorsers_page(form, 400)
    if not services.may_manage_endorsers(current_user, org):
        abort(404)  # another bureau's organisation
    return run_action(
        lambda: services.set_endorser(org, form.kind.data, actor=current_user),
        success=lambda _result: _("%(org)s may now endorse capabilities.", org=org.display_name(current_locale())),
        redirect_to=url_for("endorsements.endorsers"), form=form,
        on_invalid=lambda errors, status: _endorsers_page(form, status, errors))


@bp.post("/endorsers/<int:org_id>/remove")
@staff_required
def remove_endorser(org_id: int):
    org = db.session.get(Organisation, org_id)
    if org is None or not services.may_manage_endorsers(current_user, org):
        abort(404)
    return run_action(
        lambda: services.set_endorser(org, "", actor=current_user),
        success=lambda _result: _("%(org)s may no longer endorse. Its endorsements already given stay until they "
                                  "expire or are withdrawn.", org=org.display_name(current_locale())),
        redirect_to=url_for("endorsements.endorsers"))
