"""The page where a signed-in user creates and revokes personal API tokens
(HTML forms with the session cookie, so Flask-WTF checks their CSRF token)."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from oims.api.auth import issue_token, revoke_token, user_tokens
from oims.api.views import bp
from oims.core.exceptions import ValidationFailed
from oims.extensions import db
from oims.models import ApiToken
from oims.web.actions import run_action
from oims.web.forms import apply_errors


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("What the token is for, e.g. “our CRM”."))


class RevokeForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    general: list[str] = []
    new_token = None
    status = 200
    if form.validate_on_submit():
        # Not run_action: on success this page renders the new token in its
        # response instead of redirecting (see below), which no other view does.
        try:
            new_token, _row = issue_token(current_user, form.name.data)
        except ValidationFailed as exc:
            db.session.rollback()
            general = apply_errors(form, exc)
            status = 400
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    # The new token is rendered in this response only (no redirect, no flash):
    # it is never stored anywhere but the user's screen.
    return render_template("api/tokens.html", form=form, general=general, new_token=new_token,
                           items=user_tokens(current_user)), status


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    row = db.session.get(ApiToken, token_id) if token_id < 2**31 else None
    if row is None or row.user_id != current_user.id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    return run_action(lambda: revoke_token(row, current_user),
                      success=_("The token “%(name)s” is revoked; it no longer works.", name=row.name),
                      redirect_to=url_for("api.tokens"))
