from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from oims.auth.forms import choices
from oims.core import reference as ref
from oims.policy import RESTRICTABLE_PARTS
from oims.proposals.services import MAX_DECLINE_NOTE, MAX_LENGTHS, TEXT_FIELDS
from oims.web.conflicts import version_field
from oims.web.fields import MultiCheckboxField


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _max(field: str) -> dict:
    return {"maxlength": MAX_LENGTHS[field]}


class ProposalForm(FlaskForm):
    row_version = version_field()  # optimistic concurrency (oims.conflicts)
    # The service checks required fields and lengths (the one place of the
    # rules) and its messages are put next to the fields; `maxlength` only
    # helps the browser.
    title = StringField(_l("Title"), render_kw=_max("title"))
    summary = TextAreaField(_l("Summary"), render_kw=_max("summary"),
                            description=_l("A few sentences: what you propose and why it fits the need."))
    solution = TextAreaField(_l("Proposed solution"), render_kw=_max("solution"))
    track_record = TextAreaField(_l("Relevant technology and track record"),
                                 render_kw=_max("track_record"))
    team = TextAreaField(_l("Team"), render_kw=_max("team"))
    schedule = StringField(_l("Expected schedule (optional)"), render_kw=_max("schedule"))
    cost = StringField(_l("Expected cost (optional)"), render_kw=_max("cost"))
    answers = MultiCheckboxField(_l("Which parts of the need does your proposal answer?"), choices=[],
                                  validate_choice=False)
    answered_other = TextAreaField(_l("Other points answered (one per line)"),
                                   validators=[Optional(), Length(max=3000)])
    attachments = MultipleFileField(_l("Attachments (PDF or images)"))
    # Staged disclosure: sections and new files the need owner and the coordinators see only after the NDA.
    after_nda = MultiCheckboxField(
        _l("Disclose after the NDA only"), validate_choice=False,
        description=_l("Ticked sections are hidden from the need owner and the coordinators until the NDA "
                       "stage is recorded; the title and the summary always show. The receipt covers every part."))
    attachments_after_nda = BooleanField(_l("Disclose the files uploaded now after the NDA only"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("title", "summary", "solution"):  # marked * (needed to submit; checked by the service)
            getattr(self, name).flags.required = True

    def fill_choices(self, options: list[str]) -> None:
        self.answers.choices = [(o, o) for o in options]
        self.after_nda.choices = [(name, getattr(self, name).label.text) for name in RESTRICTABLE_PARTS]

    def load(self, proposal, options: list[str]) -> None:
        self.row_version.data = str(proposal.row_version)
        for name in TEXT_FIELDS:
            getattr(self, name).data = getattr(proposal, name)
        answers = list(proposal.answers or [])
        self.answers.data = [a for a in answers if a in options]
        self.answered_other.data = "\n".join(a for a in answers if a not in options)
        self.after_nda.data = list(proposal.after_nda or [])

    def service_data(self, options: list[str]) -> dict:
        data = {name: getattr(self, name).data or "" for name in TEXT_FIELDS}
        # Only offered options count as ticked; anything else must be written out.
        ticked = [a for a in (self.answers.data or []) if a in options]
        data["answers"] = ticked + _lines(self.answered_other.data)
        data["after_nda"] = list(self.after_nda.data or [])
        return data


class DeclineForm(FlaskForm):
    # The service checks the reason (so its message is the one shown).
    reason = SelectField(_l("Reason"), validate_choice=False)
    note = TextAreaField(_l("Message to the proposer"), validators=[Optional(), Length(max=MAX_DECLINE_NOTE)],
                         description=_l("Sent to the proposer with the reason. Required for “Other”."))

    def fill_choices(self) -> None:
        self.reason.choices = choices(ref.DECLINE_REASONS, blank=True)


class WithdrawForm(FlaskForm):
    note = TextAreaField(_l("Reason for withdrawing (optional)"),
                         validators=[Optional(), Length(max=MAX_DECLINE_NOTE)])
