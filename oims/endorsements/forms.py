from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional


class EndorseForm(FlaskForm):
    org_id = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    capability = StringField(_l("Capability you endorse"), render_kw={"maxlength": 200},
                             description=_l("One specific capability, e.g. one of the technologies on its profile."))
    note = TextAreaField(_l("Note (what you have seen, e.g. joint tests or support projects)"),
                         render_kw={"rows": 3})
    expires_on = DateField(_l("Valid until"), validators=[Optional()],
                           description=_l("Endorsements expire; two years if left empty."))


class EndorserForm(FlaskForm):
    org_id = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    kind = SelectField(_l("Kind of support body"), validate_choice=False)
