"""Routes: a person's own data and deletion (/account/...), and the admin's
off-boarding of users and organisations (/admin/...). Admin routes are
guarded with roles_required("admin") before any work."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from oims.accounts import export, services
from oims.accounts.forms import AdminDeleteForm, DeleteAccountForm
from oims.audit.log import audit
from oims.auth.passwords import verify_password
from oims.auth.views import sign_out_here
from oims.core.vocabulary import Role
from oims.extensions import db
from oims.models import ApiToken, Organisation, User
from oims.policy import roles_required
from oims.web.actions import run_action

bp = Blueprint("accounts", __name__)


def _download(body: str | bytes, filename: str, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


# --- the person's own data --------------------------------------------------------------------

@bp.get("/account/data.json")
@login_required
def export_json():
    return _download(export.personal_data_json(current_user), f"oims-personal-data-{current_user.id}.json",
                     "application/json")


@bp.get("/account/data.zip")
@login_required
def export_zip():
    return _download(export.personal_data_zip(current_user), f"oims-personal-data-{current_user.id}.zip",
                     "application/zip")


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.password.data):
            form.password.errors.append(_("The password is wrong."))
        else:
            def delete_and_sign_out():
                services.delete_user(user, actor=user)
                sign_out_here()  # before the flash, which must outlive the cleared session

            return run_action(delete_and_sign_out, category="info", redirect_to=url_for("main.index"),
                              success=_("Your account was deleted. Your name and e-mail address were removed; "
                                        "the bureau keeps the business records without them."),
                              on_invalid=lambda errors, status: _render_delete(form, errors, status), form=form)
    return _render_delete(form, [], 400 if request.method == "POST" else 200)


def _render_delete(form: DeleteAccountForm, general: list[str], status: int):
    return render_template("accounts/delete.html", form=form, general_errors=general), status


# --- admin: users -----------------------------------------------------------------------------

def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _back(user: User):
    return redirect(_user_page(user))


def _user_page(user: User) -> str:
    return url_for("accounts.admin_user", user_id=user.id)


@bp.get("/admin/users/<int:user_id>")
@roles_required(Role.ADMIN)
def admin_user(user_id: int):
    user = _user_or_404(user_id)
    tokens = db.session.scalar(select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) or 0
    return render_template("accounts/admin_user.html", user=user, active_tokens=tokens,
                           delete_form=AdminDeleteForm())


@bp.get("/admin/users/<int:user_id>/data.json")
@roles_required(Role.ADMIN)
def admin_export(user_id: int):
    """For a disclosure request from someone who can no longer sign in."""
    user = _user_or_404(user_id)
    audit(current_user, "user.data_exported", user)
    db.session.commit()
    return _download(export.personal_data_json(user), f"oims-personal-data-{user.id}.json", "application/json")


@bp.post("/admin/users/<int:user_id>/disable")
@roles_required(Role.ADMIN)
def disable_user(user_id: int):
    user = _user_or_404(user_id)
    return run_action(lambda: services.disable_user(user, actor=current_user), redirect_to=_user_page(user),
                      success=lambda n: _("The account was disabled: its sessions ended and %(n)d API tokens "
                                          "were revoked.", n=n))


@bp.post("/admin/users/<int:user_id>/enable")
@roles_required(Role.ADMIN)
def enable_user(user_id: int):
    user = _user_or_404(user_id)
    return run_action(lambda: services.enable_user(user, actor=current_user), redirect_to=_user_page(user),
                      success=_("The account was enabled."))


@bp.post("/admin/users/<int:user_id>/sessions/end")
@roles_required(Role.ADMIN)
def end_user_sessions(user_id: int):
    user = _user_or_404(user_id)
    return run_action(lambda: services.end_user_sessions(user, actor=current_user), redirect_to=_user_page(user),
                      success=_("Every session of this account was ended."))


@bp.post("/admin/users/<int:user_id>/delete")
@roles_required(Role.ADMIN)
def delete_user(user_id: int):
    user = _user_or_404(user_id)
    form = AdminDeleteForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "warning")
        return _back(user), 400
    if user.id == current_user.id:
        flash(_("Delete your own account from your settings."), "warning")
        return _back(user), 400
    return run_action(lambda: services.delete_user(user, actor=current_user), redirect_to=_user_page(user),
                      success=_("The account was deleted (pseudonymised); its business records were kept."))


# --- admin: organisations ---------------------------------------------------------------------

def _org_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


@bp.post("/admin/orgs/<int:org_id>/disable")
@roles_required(Role.ADMIN)
def disable_org(org_id: int):
    org = _org_or_404(org_id)
    org_page = url_for("orgs.view", org_id=org.id)

    def then_proposals_left(report: services.OrgOffboarding) -> str:
        """After the success message, the proposals left for the coordinators (a warning of its own)."""
        if report.proposals_left:
            flash(ngettext("%(num)d proposal is past the meeting stage and was left as it is; its coordinator "
                           "can end it from the case page.",
                           "%(num)d proposals are past the meeting stage and were left as they are; their "
                           "coordinators can end them from the case pages.", len(report.proposals_left)), "warning")
        return org_page

    return run_action(
        lambda: services.disable_org(org, actor=current_user),
        success=lambda report: _(
            "The organisation was disabled: %(users)d users disabled, %(tokens)d API tokens revoked, "
            "%(proposals)d proposals withdrawn, %(needs)d needs withdrawn, %(meetings)d meetings cancelled.",
            users=report.users_disabled, tokens=report.tokens_revoked, proposals=len(report.proposals_withdrawn),
            needs=len(report.needs_withdrawn), meetings=report.meetings_cancelled),
        redirect_to=lambda report: org_page if report is None else then_proposals_left(report),
    )


@bp.post("/admin/orgs/<int:org_id>/enable")
@roles_required(Role.ADMIN)
def enable_org(org_id: int):
    org = _org_or_404(org_id)
    return run_action(lambda: services.enable_org(org, actor=current_user),
                      success=lambda count: _("The organisation was enabled again, with %(n)d of its users. "
                                              "Withdrawn proposals and needs stay withdrawn.", n=count),
                      redirect_to=url_for("orgs.view", org_id=org.id))
