from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional


class CallForm(FlaskForm):
    title = StringField(_l("Title (Japanese)"), render_kw={"maxlength": 200})
    title_en = StringField(_l("Title (English)"), render_kw={"maxlength": 200})
    description = TextAreaField(_l("Description"), render_kw={"rows": 5})
    deadline = DateField(_l("Deadline for proposals"), validators=[Optional()])
    bureau = SelectField(_l("Bureau"), validate_choice=False)


class AttachNeedForm(FlaskForm):
    need_id = SelectField(_l("Published need"), coerce=int, validate_choice=False)
