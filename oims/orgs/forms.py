from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from oims.auth.forms import choices
from oims.core import reference as ref
from oims.core.vocabulary import Role
from oims.web.conflicts import version_field
from oims.web.validators import HttpUrl


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class OrganisationForm(FlaskForm):
    row_version = version_field()  # optimistic concurrency (oims.conflicts)
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    name_kana = StringField(_l("Name (kana)"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    prefecture = SelectField(_l("Prefecture"), validators=[DataRequired()])
    industry = SelectField(_l("Industry (JSIC)"), validators=[DataRequired()])
    employee_band = SelectField(_l("Employees"), validators=[DataRequired()])
    website = URLField(_l("Website"), validators=[Optional(), HttpUrl(), Length(max=300)])
    profile = TextAreaField(_l("Capability profile"), validators=[Optional(), Length(max=5000)],
                            description=_l("What your organisation can do: technologies, processes, equipment, track record."))
    technologies = TextAreaField(_l("Technologies / seeds (one per line)"), validators=[Optional(), Length(max=3000)])
    certifications = TextAreaField(_l("Certifications (one per line, e.g. ISO 9001)"), validators=[Optional(), Length(max=1000)])
    patents = TextAreaField(_l("Patents (one per line)"), validators=[Optional(), Length(max=3000)])
    brands = TextAreaField(_l("Brands and product names (one per line)"), validators=[Optional(), Length(max=3000)],
                           description=_l("Not shown to others. Anonymous needs are checked for these words so that "
                                          "they do not give your organisation away."))

    def fill_choices(self) -> None:
        self.prefecture.choices = choices(ref.PREFECTURES)
        self.industry.choices = choices(ref.INDUSTRIES)
        self.employee_band.choices = choices(ref.EMPLOYEE_BANDS)

    def load(self, org) -> None:
        self.row_version.data = str(org.row_version)
        for name in ("name", "name_kana", "name_en", "prefecture", "industry", "employee_band", "website", "profile"):
            getattr(self, name).data = getattr(org, name)
        for name in ("technologies", "certifications", "patents", "brands"):
            getattr(self, name).data = "\n".join(getattr(org, name) or [])

    def save(self, org) -> None:
        for name in ("name", "name_kana", "name_en", "industry", "employee_band", "website", "profile"):
            setattr(org, name, (getattr(self, name).data or "").strip())
        org.set_prefecture(self.prefecture.data)
        for name in ("technologies", "certifications", "patents", "brands"):
            values = _lines(getattr(self, name).data)
            setattr(org, name, [v[:200] for v in values[:50]])


class StaffUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[(Role.COORDINATOR, _l("Coordinator")), (Role.ADMIN, _l("Administrator"))])
    organisation = SelectField(_l("Support body"), validators=[DataRequired()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired()])
