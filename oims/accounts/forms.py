from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(_l("I understand that my account is deleted for good"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])


class AdminDeleteForm(FlaskForm):
    confirm = BooleanField(_l("Delete this person's account for good (pseudonymise)"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
