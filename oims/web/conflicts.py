"""Edit conflicts (optimistic concurrency) for the HTML edit pages.

Every edit form carries the version it was loaded from (`row_version`, a
hidden field). A save from an older version is not applied: the edit page is
shown again with status 409, the fields as saved now ("theirs") next to the
submitted ones ("yours"), the form still holding the user's values and the
current version, so saving again re-applies them deliberately. Nothing is
lost and nothing is overwritten unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from wtforms import HiddenField
from wtforms.validators import Optional

SKIPPED_TYPES = {"CSRFTokenField", "HiddenField", "MultipleFileField", "FileField", "SubmitField"}


def version_field() -> HiddenField:
    """The hidden field every versioned edit form declares as `row_version`."""
    return HiddenField(validators=[Optional()])


@dataclass
class ConflictRow:
    label: str
    theirs: str
    yours: str

    @property
    def differs(self) -> bool:
        return self.theirs != self.yours


def _display(field, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, date):
        return value.isoformat()
    raw = getattr(field, "choices", None) or []
    choices = {str(c[0]): str(c[1]) for c in raw if isinstance(c, (list, tuple)) and len(c) >= 2}
    if isinstance(value, (list, tuple)):
        return ", ".join(choices.get(str(v), str(v)) for v in value)
    return choices.get(str(value), str(value)).replace("\r\n", "\n").strip()


def conflict_rows(yours_form, theirs_form) -> list[ConflictRow]:
    """Field by field: the saved values (theirs_form, loaded from the object
    as it is now) and the submitted ones (yours_form)."""
    rows = []
    for field in yours_form:
        if field.type in SKIPPED_TYPES:
            continue
        theirs_field = theirs_form[field.short_name]
        rows.append(ConflictRow(str(field.label.text), _display(theirs_field, theirs_field.data),
                                _display(field, field.data)))
    return rows


def conflict_context(yours_form, theirs_form, obj) -> dict:
    """Template context for the conflict panel; moves the form to the current
    version so that saving again applies the user's values on purpose."""
    rows = conflict_rows(yours_form, theirs_form)
    yours_form.row_version.data = str(obj.row_version)
    yours_form.row_version.raw_data = [str(obj.row_version)]
    return {"conflict": {"rows": rows, "changed": [r for r in rows if r.differs]}}


def commit_or_conflict() -> bool:
    """Commit; False (rolled back) when the version check of the UPDATE found
    the row changed since it was read (between the form check and the commit)."""
    from sqlalchemy.orm.exc import StaleDataError

    from oims.extensions import db

    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return False
    return True
