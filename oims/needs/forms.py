"""Need forms. Field-level checks here are for the browser round trip; the
rules themselves live in services.clean_need_data (the API uses them too)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from oims.core import reference as ref
from oims.needs.validation import LIMITS
from oims.web.conflicts import version_field
from oims.web.fields import MultiCheckboxField
from oims.web.i18n import current_locale


class Marks:
    """Renders `required`/`maxlength` on the field; the service does the checking,
    so every client (form or API) gets the same rules and messages."""

    def __init__(self, required: bool = False, maxlength: int | None = None):
        self.field_flags = {}
        if required:
            self.field_flags["required"] = True
        if maxlength:
            self.field_flags["maxlength"] = maxlength

    def __call__(self, form, field) -> None:
        return None


def _choices(items, blank=False):
    loc = current_locale()
    out = [(c.code, c.label(loc)) for c in items]
    return [("", "—")] + out if blank else out


class NeedForm(FlaskForm):
    row_version = version_field()  # optimistic concurrency (oims.conflicts)
    title = StringField(_l("Title"), validators=[Marks(True, LIMITS["title"])])
    summary = TextAreaField(_l("Public summary"), validators=[Marks(True, LIMITS["summary"])],
                            description=_l("Shown in search results. Do not name your company if you post anonymously."))
    background = TextAreaField(_l("Background and problem"), validators=[Marks(False, LIMITS["background"])])
    sought = TextAreaField(_l("Technology or capability sought"), validators=[Marks(False, LIMITS["sought"])])
    partnership_types = MultiCheckboxField(_l("Partnership types"), validate_choice=False)
    keywords = StringField(_l("Fields / keywords"), validators=[Marks(False, 1000)],
                           description=_l("Separate with commas, e.g. 軽量化, CFRP, 異材接合"))
    regions = MultiCheckboxField(_l("Preferred regions"), validate_choice=False,
                                 description=_l("Leave empty for nationwide."))
    budget = StringField(_l("Expected scale / budget"), validators=[Marks(False, LIMITS["budget"])])
    deadline = DateField(_l("Proposal deadline"), validators=[Optional(), Marks(True)])
    desired_start = StringField(_l("Desired start"), validators=[Marks(False, LIMITS["desired_start"])])
    anonymous = BooleanField(_l("Post anonymously (proposers see an alias such as 「大手製造業・案件K7Q2」, a new one for each need)"))
    attachments = MultipleFileField(_l("Attachments (PDF, PNG, JPEG)"))

    def fill_choices(self) -> None:
        self.partnership_types.choices = _choices(ref.PARTNERSHIP_TYPES)
        self.regions.choices = _choices(ref.BUREAUS)

    def load(self, need) -> None:
        self.row_version.data = str(need.row_version)
        for name in ("title", "summary", "background", "sought", "budget", "desired_start", "deadline",
                     "anonymous", "partnership_types", "regions"):
            getattr(self, name).data = getattr(need, name)
        self.keywords.data = ", ".join(need.keywords or [])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "title", "summary", "background", "sought", "partnership_types", "keywords", "regions",
            "budget", "deadline", "desired_start", "anonymous")}


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("Comments for the owner"),
                            validators=[Marks(True, LIMITS["comment"])])


class AttachmentForm(FlaskForm):
    attachments = MultipleFileField(_l("Attachments (PDF, PNG, JPEG)"))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    partnership = SelectField(_l("Partnership type"), validate_choice=False)
    keyword = StringField(_l("Field / keyword"))
    region = SelectField(_l("Region"), validate_choice=False)
    deadline_before = DateField(_l("Deadline on or before"), validators=[Optional()])
    new = BooleanField(_l("New since my last visit"))
    sort = SelectField(_l("Sort"), choices=[("newest", _l("Newest first")), ("deadline", _l("Deadline soonest"))],
                       validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    # The need owner's organisation (h10). Prefecture and size are not in an
    # anonymous need's alias: see search_needs for how those needs are treated.
    industry = SelectField(_l("Industry"), validate_choice=False)
    prefecture = SelectField(_l("Prefecture"), validate_choice=False)
    org_kind = SelectField(_l("Organisation type"), validate_choice=False)
    size = SelectField(_l("Employees"), validate_choice=False)

    def fill_choices(self, status_labels: dict, staff: bool) -> None:
        self.industry.choices = _choices(ref.INDUSTRIES, blank=True)
        self.prefecture.choices = _choices(ref.PREFECTURES, blank=True)
        self.org_kind.choices = _choices([c for c in ref.ORG_KINDS if c.code in ref.OWNER_KINDS], blank=True)
        self.size.choices = _choices(ref.EMPLOYEE_BANDS, blank=True)
        self.partnership.choices = _choices(ref.PARTNERSHIP_TYPES, blank=True)
        self.region.choices = _choices(ref.BUREAUS, blank=True)
        self.status.choices = [(k, v) for k, v in status_labels.items()] + [("all", _l("All"))] if staff else []
