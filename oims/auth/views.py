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

from oims.audit.log import audit
from oims.auth import services
from oims.auth.forms import ChangePasswordForm, LoginForm, ResetPasswordForm, ResetRequestForm, SettingsForm, SignupForm
from oims.core.exceptions import ValidationFailed
from oims.extensions import db, limiter, login_manager
from oims.models import User
from oims.models.base import utcnow
from oims.web.forms import apply_errors

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _, nonce = user_id.partition(":")
    if not uid.isdigit():
        return None
    user = db.session.get(User, int(uid))
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
        elif user.status == "pending":
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


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    # Ends this user's sessions everywhere (the session generation changes),
    # so a copied session or remember-me cookie is worthless after sign-out.
    services.end_sessions(user)
    audit(user, "auth.logout", user)
    db.session.commit()
    sign_out_here()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


@bp.post("/sessions/end")
@login_required
def end_sessions():
    """"Sign out of all devices": every session and remember-me cookie of the
    account ends, this browser's included."""
    user = current_user._get_current_object()
    services.end_sessions(user)
    audit(user, "auth.sessions_ended", user, by="self")
    db.session.commit()
    sign_out_here()
    flash(_("You were signed out on every device. Please sign in again."), "info")
    return redirect(url_for("main.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignupForm()
    form.fill_choices()
    general: list[str] = []
    if form.validate_on_submit():
        try:
            user = services.register(form.data)
        except ValidationFailed as exc:
            db.session.rollback()
            general = apply_errors(form, exc)
        else:
            db.session.commit()
            if user.status == "pending":
                flash(_("Thank you. Your request was sent to the organisation for approval; we will e-mail you."), "info")
                return redirect(url_for("main.index"))
            session.clear()
            login_user(user)
            flash(_("Welcome to OIMS. Please complete your organisation's profile."), "success")
            if user.organisation.is_pending:
                flash(_("A coordinator of your bureau checks new organisations before they can propose; "
                        "we will tell you when yours is approved."), "info")
            return redirect(url_for("orgs.edit", org_id=user.organisation_id))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form, general_errors=general), status


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.start_password_reset(form.email.data)
        db.session.commit()
        flash(_("If the address belongs to an account, we have sent a link to reset the password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.valid_reset_token(token) is None:
        flash(_("This reset link is invalid, expired or already used."), "danger")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            _user, revoked = services.reset_password(token, form.password.data,
                                                     keep_api_tokens=form.keep_api_tokens.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your password was changed. Please sign in."), "success")
            _flash_revoked(revoked, form.keep_api_tokens.data)
            return redirect(url_for("auth.login"))
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
        from oims.auth.passwords import verify_password

        if not verify_password(current_user.password_hash, pw_form.current.data):
            pw_form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                revoked = services.change_password(current_user, pw_form.password.data,
                                                   keep_api_tokens=pw_form.keep_api_tokens.data)
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(pw_form, exc)
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # keep this session valid (new nonce)
                flash(_("Your password was changed."), "success")
                _flash_revoked(revoked, pw_form.keep_api_tokens.data)
                return redirect(url_for("auth.settings"))
    return render_template("auth/settings.html", form=form, pw_form=pw_form), 400


def _flash_revoked(revoked: int, kept: bool) -> None:
    if kept:
        flash(_("Your personal API tokens were kept."), "info")
    else:
        flash(ngettext("%(num)d personal API token was revoked.",
                       "%(num)d personal API tokens were revoked.", revoked), "info")
