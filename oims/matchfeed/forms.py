from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired


class JudgeForm(FlaskForm):
    """A coordinator marks a suggested candidate relevant or not relevant."""

    kind = SelectField(choices=[("proposal", "proposal"), ("org", "org")], validators=[DataRequired()])
    target_id = HiddenField(validators=[DataRequired()])
    relevant = SelectField(choices=[("1", _l("Relevant")), ("0", _l("Not relevant"))],
                           validators=[DataRequired()])


class AlertSettingsForm(FlaskForm):
    on_publish = BooleanField(_l("Tell me (in OIMS and by e-mail) when a need that matches my organisation is published"))
    weekly_digest = BooleanField(_l("Send me a weekly e-mail of new needs that match my organisation"))
