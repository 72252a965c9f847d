from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField

from oims.fairdeal.services import category_labels, ip_owner_labels


def _yes_no():
    return [("", _l("Not decided")), ("yes", _l("Yes")), ("no", _l("No"))]


class TermsForm(FlaskForm):
    # The service checks every value (one place of the rules); the form only carries them.
    nda_term_months = StringField(_l("NDA term (months)"), render_kw={"inputmode": "numeric"},
                                  description=_l("Leave empty if the NDA has no term."))
    nda_mutual = RadioField(_l("Mutual NDA (both sides' information protected)?"), validate_choice=False)
    nda_scope = TextAreaField(_l("NDA scope (what information, for what purpose)"), render_kw={"rows": 2})
    poc_scope = TextAreaField(_l("PoC scope"), render_kw={"rows": 2})
    poc_weeks = StringField(_l("PoC duration (weeks)"), render_kw={"inputmode": "numeric"})
    poc_paid = RadioField(_l("Is the PoC paid?"), validate_choice=False)
    poc_fee_yen = StringField(_l("PoC fee (yen)"), render_kw={"inputmode": "numeric"})
    ip_owner = SelectField(_l("Who owns the results?"), validate_choice=False)

    def fill_choices(self) -> None:
        self.nda_mutual.choices = _yes_no()
        self.poc_paid.choices = _yes_no()
        self.ip_owner.choices = [("", _l("Not decided"))] + list(ip_owner_labels().items())

    def load(self, terms) -> None:
        def yn(v):
            return "" if v is None else ("yes" if v else "no")
        self.nda_term_months.data = "" if terms.nda_term_months is None else str(terms.nda_term_months)
        self.nda_mutual.data = yn(terms.nda_mutual)
        self.nda_scope.data = terms.nda_scope
        self.poc_scope.data = terms.poc_scope
        self.poc_weeks.data = "" if terms.poc_weeks is None else str(terms.poc_weeks)
        self.poc_paid.data = yn(terms.poc_paid)
        self.poc_fee_yen.data = "" if terms.poc_fee_yen is None else str(terms.poc_fee_yen)
        self.ip_owner.data = terms.ip_owner

    def service_data(self) -> dict:
        return {name: (getattr(self, name).data or "").strip() for name in (
            "nda_term_months", "nda_mutual", "nda_scope", "poc_scope", "poc_weeks", "poc_paid", "poc_fee_yen",
            "ip_owner")}


class ReportForm(FlaskForm):
    category = SelectField(_l("What is it about?"), validate_choice=False)
    body = TextAreaField(_l("What happened"), render_kw={"rows": 4, "maxlength": 4000})

    def fill_choices(self) -> None:
        self.category.choices = [("", "—")] + list(category_labels().items())
