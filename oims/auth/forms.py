from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    URLField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from oims.core import reference as ref
from oims.core.vocabulary import Role
from oims.web.i18n import current_locale
from oims.web.validators import HttpUrl


def choices(items, blank: bool = False):
    loc = current_locale()
    out = [(c.code, c.label(loc)) for c in items]
    return ([("", "—")] + out) if blank else out


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Confirm password"), validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))]
    )
    role = RadioField(_l("I want to"), choices=[(Role.NEED_OWNER, _l("Post needs (company looking for partners)")),
                                               (Role.PROPOSER, _l("Propose (SME, university, institute, startup)"))],
                      validators=[DataRequired()])
    org_mode = RadioField(_l("Organisation"), choices=[("new", _l("Register a new organisation")),
                                                      ("join", _l("Join an organisation already registered"))],
                          default="new", validators=[DataRequired()])
    # No list of member firms on a public page: the organisation to join is found by its
    # exact corporate number or by an invitation code its administrator hands out.
    join_key = StringField(_l("Corporate number or invitation code"), validators=[Optional(), Length(max=40)],
                           description=_l("The 13-digit corporate number (法人番号) of your organisation, or the "
                                          "invitation code its administrator gave you."))
    org_name = StringField(_l("Organisation name"), validators=[Optional(), Length(max=200)])
    org_corporate_number = StringField(_l("Corporate number (法人番号)"), validators=[Optional(), Length(max=40)],
                                       description=_l("13 digits, as published by the National Tax Agency."))
    org_name_kana = StringField(_l("Name (kana)"), validators=[Optional(), Length(max=200)])
    org_name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    org_kind = SelectField(_l("Kind of organisation"), validators=[Optional()], validate_choice=False)
    org_prefecture = SelectField(_l("Prefecture"), validators=[Optional()], validate_choice=False)
    org_industry = SelectField(_l("Industry (JSIC)"), validators=[Optional()], validate_choice=False)
    org_employee_band = SelectField(_l("Employees"), validators=[Optional()], validate_choice=False)
    org_website = URLField(_l("Website"), validators=[Optional(), HttpUrl(), Length(max=300)])

    def fill_choices(self) -> None:
        self.org_kind.choices = choices([k for k in ref.ORG_KINDS if k.code != "support"], blank=True)
        self.org_prefecture.choices = choices(ref.PREFECTURES, blank=True)
        self.org_industry.choices = choices(ref.INDUSTRIES, blank=True)
        self.org_employee_band.choices = choices(ref.EMPLOYEE_BANDS, blank=True)


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Confirm password"), validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))]
    )


    keep_api_tokens = BooleanField(
        _l("Keep my API tokens"),
        description=_l("Unless you tick this, every personal API token of your account is revoked with the change."))


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class SettingsForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    language = SelectField(_l("Language"), choices=[("ja", "日本語"), ("en", "English")])
