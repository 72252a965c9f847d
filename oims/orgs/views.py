from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from oims.audit.log import audit
from oims.auth import services as auth_services
from oims.core import reference as ref
from oims.core.concurrency import check_version
from oims.core.mail import notify
from oims.core.vocabulary import AccountStatus, Role
from oims.extensions import db
from oims.models import Organisation, OrgJoinRequest, User
from oims.orgs.forms import OrganisationForm, StaffUserForm
from oims.policy import can_edit_org, can_view_org, roles_required, staff_required
from oims.web.actions import run_action
from oims.web.conflicts import conflict_context

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


def _org_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


@bp.get("/")
@staff_required
def index():
    q = select(Organisation).order_by(Organisation.bureau, Organisation.prefecture, Organisation.name)
    kind = request.args.get("kind", "")
    bureau = request.args.get("bureau", "")
    if kind in ref.ORG_KIND_BY_CODE:
        q = q.where(Organisation.kind == kind)
    if bureau in ref.BUREAU_BY_CODE:
        q = q.where(Organisation.bureau == bureau)
    page = db.paginate(q, per_page=50, error_out=False)
    return render_template("orgs/index.html", page=page, kind=kind, bureau=bureau)


@bp.get("/<int:org_id>")
@login_required
def view(org_id: int):
    org = _org_or_404(org_id)
    if not can_view_org(current_user, org):
        abort(404)  # do not confirm that another organisation exists
    members = db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.name)).all()
    show_code = current_user.is_staff or (current_user.is_org_admin and current_user.organisation_id == org.id)
    return render_template("orgs/view.html", org=org, members=members,
                           can_edit=can_edit_org(current_user, org),
                           invitation_code=auth_services.invitation_code(org) if show_code else None)


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    org = _org_or_404(org_id)
    if not can_view_org(current_user, org):
        abort(404)
    if not can_edit_org(current_user, org):
        abort(403)
    form = OrganisationForm()
    form.fill_choices()
    if request.method == "GET":
        form.load(org)
    elif form.validate_on_submit():
        def save():
            check_version(org, form.row_version.data)
            form.save(org)
            audit(current_user, "org.updated", org)

        return run_action(save, success=_("The organisation's profile was saved."),
                          redirect_to=url_for("orgs.view", org_id=org.id),
                          on_conflict=lambda: _edit_conflict(org, form))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/edit.html", form=form, org=org), status


def _edit_conflict(org: Organisation, form: OrganisationForm):
    """The edit page again (409): the profile as saved now next to the user's values."""
    db.session.rollback()
    org = _org_or_404(org.id)
    theirs = OrganisationForm(formdata=None)
    theirs.fill_choices()
    theirs.load(org)
    return render_template("orgs/edit.html", form=form, org=org, **conflict_context(form, theirs, org)), 409


@bp.get("/join-requests")
@login_required
def join_requests():
    if not (current_user.is_staff or current_user.is_org_admin):
        abort(403)
    q = select(OrgJoinRequest).join(Organisation).where(OrgJoinRequest.status == "pending")
    if current_user.is_coordinator:
        q = q.where(Organisation.bureau == current_user.bureau)
    elif not current_user.is_admin:
        q = q.where(OrgJoinRequest.organisation_id == current_user.organisation_id)
    items = db.session.scalars(q.order_by(OrgJoinRequest.id)).all()
    return render_template("orgs/join_requests.html", items=items)


@bp.post("/join-requests/<int:req_id>/<any(approve, reject):decision>")
@login_required
def decide_join(req_id: int, decision: str):
    req = db.session.get(OrgJoinRequest, req_id)
    if req is None or not auth_services.can_decide_join(current_user, req):
        abort(404)
    return run_action(lambda: auth_services.decide_join(current_user, req, decision == "approve"),
                      success=_("Approved.") if decision == "approve" else _("Declined."),
                      redirect_to=url_for("orgs.join_requests"))


@bp.route("/staff/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_staff():
    form = StaffUserForm()
    support = db.session.scalars(select(Organisation).where(Organisation.kind == "support")
                                 .order_by(Organisation.name)).all()
    form.organisation.choices = [(str(o.id), o.name) for o in support]
    if form.validate_on_submit():
        org = db.session.get(Organisation, int(form.organisation.data))

        def create():
            user = auth_services.create_user(email=form.email.data, name=form.name.data,
                                             password=form.password.data, role=form.role.data, organisation=org)
            audit(current_user, "user.created", user, role=user.role)
            return user

        return run_action(
            create, success=lambda user: _("The account %(email)s was created.", email=user.email),
            redirect_to=url_for("orgs.view", org_id=org.id), form=form,
            on_invalid=lambda errors, status: _new_staff_page(form, errors, status))
    return _new_staff_page(form, [], 400 if request.method == "POST" else 200)


def _new_staff_page(form: StaffUserForm, general: list[str], status: int):
    return render_template("orgs/new_staff.html", form=form, general_errors=general), status


# --- new organisations waiting for a coordinator's check --------------------------------

def _may_approve_org(user, org: Organisation) -> bool:
    return user.is_admin or (user.is_coordinator and user.bureau == org.bureau)


@bp.get("/pending")
@staff_required
def pending():
    q = select(Organisation).where(Organisation.status == AccountStatus.PENDING)
    if not current_user.is_admin:
        q = q.where(Organisation.bureau == current_user.bureau)
    items = db.session.scalars(q.order_by(Organisation.created_at, Organisation.id)).all()
    return render_template("orgs/pending.html", items=items)


@bp.post("/<int:org_id>/approve")
@staff_required
def approve(org_id: int):
    org = _org_or_404(org_id)
    if not _may_approve_org(current_user, org):
        abort(404)
    if not org.is_pending:
        flash(_("This organisation is not waiting for approval."), "warning")
        return redirect(url_for("orgs.pending"))
    org.status = AccountStatus.ACTIVE
    audit(current_user, "org.approved", org)
    for member in db.session.scalars(select(User).where(User.organisation_id == org.id, User.is_org_admin.is_(True))):
        notify(member, "org_approved", lambda: _("Your organisation %(org)s was approved: you can now propose.",
                                                  org=org.name), url_for("orgs.view", org_id=org.id))
    db.session.commit()
    flash(_("%(org)s was approved.", org=org.name), "success")
    return redirect(url_for("orgs.pending"))
