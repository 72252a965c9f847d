from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload

from oims.audit.log import audit
from oims.auth import services
from oims.auth.forms import ChangePasswordForm, LoginForm, ResetPasswordForm, ResetRequestForm, SettingsForm, SignupForm
from oims.auth.passwords import verify_password
from oims.core.vocabulary import AccountStatus
from oims.extensions import db, limiter, login_manager
from oims.models import User
from oims.models.base import utcnow
from oims.web.actions import run_action

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _, nonce = user_id.partition(":")
    if not uid.isdigit():
        return None
    # With its organisation, which is_active and most pages read: one query, not two.
    user = db.session.get(User, int(uid), options=[joinedload(User.organisation)])
    # The nonce is the user's session generation: sign-out, a password change
    # or reset, "sign out everywhere" and off-boarding renew it, so every
    # session cookie and remember-me cookie issued before (copies included)
    # stops working on its next request. Disabled users are refused here too.
    if user is None or not secrets.compare_digest(user.session_nonce, nonce) or not user.is_active:
        return None
    return user


login_manager.login_view = "auth.login"
login_manager.login_message_category = "warning"


def _login_message():
    return _("Please sign in to see this page.")


login_manager.localize_callback = lambda msg: _login_message()
login_manager.login_message = "login"


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: refuses //host, scheme:, backslashes."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _login_rate():
    return current_app.config["OIMS_LOGIN_RATE"]


def _login_ip_rate():
    return current_app.config["OIMS_LOGIN_IP_RATE"]


def _email_key():
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


def _address_key():
    return "login-address:" + (get_remote_address() or "")


def _login_failed(response) -> bool:
    """Only failed sign-ins count against the limits: a failure re-renders the
    form with 400, a success redirects. So colleagues signing in from one
    office address never lock each other out; guessing passwords does."""
    return response.status_code == 400


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_rate, methods=["POST"], key_func=_address_key, deduct_when=_login_failed)
@limiter.limit(_login_rate, methods=["POST"], key_func=_email_key, deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("E-mail or password is wrong."))
        elif user.status == AccountStatus.PENDING:
            form.email.errors.append(_("Your account is waiting for approval by your organisation."))
        elif not user.is_active:
            form.email.errors.append(_("This account is disabled. Contact the bureau if you think this is a mistake."))
        else:
            lang = session.get("lang")
            session.clear()  # a new session on every login (no fixation)
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            audit(user, "auth.login", user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
        db.session.commit()  # keep a password rehash / nothing else
    return render_template("auth/login.html", form=form), (400 if request.method == "POST" else 200)


def sign_out_here() -> None:
    """Clear this browser's session and make Flask-Login delete its remember-me
    cookie (the "_remember" flag must survive session.clear())."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    session["_remember"] = "clear"
    if lang:
        session["lang"] = lang


def _sign_out_everywhere(action: str, **details) -> None:
    """End the user's sessions everywhere (the session generation changes), so a
    copied session or remember-me cookie is worthless, then this browser's.
    The cookie session is cleared before the flash, which must outlive it."""
    user = current_user._get_current_object()
    services.end_sessions(user)
    audit(user, action, user, **details)
    sign_out_here()


@bp.post("/logout")
@login_required
def logout():
    return run_action(lambda: _sign_out_everywhere("auth.logout"), success=_("You have signed out."),
                      category="info", redirect_to=url_for("main.index"))


@bp.post("/sessions/end")
@login_required
def end_sessions():
    """"Sign out of all devices": every session and remember-me cookie of the
    account ends, this browser's included."""
    return run_action(lambda: _sign_out_everywhere("auth.sessions_ended", by="self"),
                      success=_("You were signed out on every device. Please sign in again."),
                      category="info", redirect_to=url_for("main.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignupForm()
    form.fill_choices()
    if form.validate_on_submit():
        return run_action(lambda: services.register(form.data), success=None, redirect_to=_welcome, form=form,
                          on_invalid=lambda errors, status: _render_signup(form, errors, status))
    return _render_signup(form, [], 400 if request.method == "POST" else 200)


def _render_signup(form: SignupForm, general: list[str], status: int):
    return render_template("auth/signup.html", form=form, general_errors=general), status


def _welcome(user: User) -> str:
    """After a sign-up is committed: sign the new user in (unless the account
    waits for approval), say what happens next, and where to go."""
    if user.status == AccountStatus.PENDING:
        flash(_("Thank you. Your request was sent to the organisation for approval; we will e-mail you."), "info")
        return url_for("main.index")
    session.clear()
    login_user(user)
    flash(_("Welcome to OIMS. Please complete your organisation's profile."), "success")
    if user.organisation.is_pending:
        flash(_("A coordinator of your bureau checks new organisations before they can propose; "
                "we will tell you when yours is approved."), "info")
    return url_for("orgs.edit", org_id=user.organisation_id)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        return run_action(lambda: services.start_password_reset(form.email.data),
                          success=_("If the address belongs to an account, we have sent a link to reset the password."),
                          category="info", redirect_to=url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.valid_reset_token(token) is None:
        flash(_("This reset link is invalid, expired or already used."), "danger")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        kept = form.keep_api_tokens.data
        return run_action(lambda: services.reset_password(token, form.password.data, keep_api_tokens=kept)[1],
                          success=_("Your password was changed. Please sign in."),
                          redirect_to=_then_tokens_message(url_for("auth.login"), kept),
                          on_invalid=lambda _errors, _status: _render_reset(form), form=form)
    return _render_reset(form)


def _render_reset(form: ResetPasswordForm):
    return render_template("auth/reset_password.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user)
    pw_form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit() and "save_settings" in request.form:
        current_user.name = form.name.data.strip()
        current_user.language = form.language.data
        session["lang"] = form.language.data
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("auth.settings"))
    return render_template("auth/settings.html", form=form, pw_form=pw_form), (400 if request.method == "POST" else 200)


@bp.post("/password")
@login_required
def change_password():
    form = SettingsForm(obj=current_user, formdata=None)
    pw_form = ChangePasswordForm(prefix="pw")
    if pw_form.validate_on_submit():
        if not verify_password(current_user.password_hash, pw_form.current.data):
            pw_form.current.errors.append(_("The current password is wrong."))
        else:
            kept = pw_form.keep_api_tokens.data
            return run_action(lambda: _change_password(pw_form.password.data, kept),
                              success=_("Your password was changed."),
                              redirect_to=_then_tokens_message(url_for("auth.settings"), kept),
                              on_invalid=lambda _errors, _status: _render_settings(form, pw_form), form=pw_form)
    return _render_settings(form, pw_form)


def _render_settings(form: SettingsForm, pw_form: ChangePasswordForm):
    return render_template("auth/settings.html", form=form, pw_form=pw_form), 400


def _change_password(password: str, kept: bool) -> int:
    user = current_user._get_current_object()
    revoked = services.change_password(user, password, keep_api_tokens=kept)
    login_user(user)  # keep this session valid (new nonce)
    return revoked


def _then_tokens_message(url: str, kept: bool):
    """`redirect_to` of a password change: after its success message, say what
    became of the personal API tokens (the action returns how many were revoked)."""

    def to(revoked: int) -> str:
        if kept:
            flash(_("Your personal API tokens were kept."), "info")
        else:
            flash(ngettext("%(num)d personal API token was revoked.",
                           "%(num)d personal API tokens were revoked.", revoked), "info")
        return url

    return to
