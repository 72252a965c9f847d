from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField


class CheckInForm(FlaskForm):
    answer = RadioField(_l("Did it continue?"), validate_choice=False)
    note = TextAreaField(_l("Anything the coordinator should know (optional)"), render_kw={"rows": 3})

    def fill_choices(self, labels: dict) -> None:
        self.answer.choices = list(labels.items())
