from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(_l("Organisation list (.csv or .xlsx)"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("The first row holds the column headers, as in the template."))
