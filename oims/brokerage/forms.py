from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from oims.core import reference as ref
from oims.web.i18n import current_locale


def choices(items, blank: bool = True):
    loc = current_locale()
    out = [(c.code, c.label(loc)) for c in items]
    return ([("", "—")] + out) if blank else out


class RecommendFilterForm(FlaskForm):
    """GET filters for the recommended organisations (applied inside the matcher search)."""

    class Meta:
        csrf = False

    bureau = SelectField(_l("Bureau (region)"), validators=[Optional()])
    prefecture = SelectField(_l("Prefecture"), validators=[Optional()])
    kind = SelectField(_l("Organisation type"), validators=[Optional()])
    employee_band = SelectField(_l("Employees"), validators=[Optional()])
    certifications = SelectField(_l("Certification"), validators=[Optional()])
    industry = SelectField(_l("Industry"), validators=[Optional()])

    def fill_choices(self) -> None:
        self.bureau.choices = choices(ref.BUREAUS)
        self.prefecture.choices = choices(ref.PREFECTURES)
        self.kind.choices = choices([c for c in ref.ORG_KINDS if c.code in ref.PROPOSER_KINDS])
        self.employee_band.choices = choices(ref.EMPLOYEE_BANDS)
        self.certifications.choices = [("", "—")] + [(c, c) for c in ref.CERTIFICATIONS]
        self.industry.choices = choices(ref.INDUSTRIES)


class CandidateFilterForm(FlaskForm):
    """GET filter of the ranked proposals on the coordinator's need page (h10)."""

    class Meta:
        csrf = False

    cand_industry = SelectField(_l("Proposer's industry"), validators=[Optional()])

    def fill_choices(self) -> None:
        self.cand_industry.choices = choices(ref.INDUSTRIES)


class InviteForm(FlaskForm):
    org_id = HiddenField(validators=[DataRequired()])
    rank = HiddenField()
    score = HiddenField()
    message = TextAreaField(_l("Message to the organisation"), validators=[Optional(), Length(max=2000)])


class ShortlistForm(FlaskForm):
    proposal_ids = SelectMultipleField(_l("Proposals to forward"), coerce=int)
    comment = TextAreaField(_l("Comment to the need owner"), validators=[DataRequired(), Length(max=4000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=4000)])


class RespondForm(FlaskForm):
    action = RadioField(_l("Your answer"), choices=[("meeting", _l("Request a first meeting")),
                                                    ("decline", _l("Decline this proposal"))],
                        validators=[DataRequired()])
    reason = SelectField(_l("Reason for declining"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def fill_choices(self) -> None:
        self.reason.choices = choices(ref.DECLINE_REASONS)


class SlotsForm(FlaskForm):
    mode = RadioField(_l("Meeting type"), choices=[("online", _l("Online")), ("onsite", _l("On site"))],
                      default="online", validators=[DataRequired()])
    url = StringField(_l("Meeting URL"), validators=[Optional(), Length(max=500)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    duration = IntegerField(_l("Duration (minutes)"), default=60, validators=[DataRequired(), NumberRange(15, 480)])
    slot1 = DateTimeLocalField(_l("Time slot 1"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    slot2 = DateTimeLocalField(_l("Time slot 2"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    slot3 = DateTimeLocalField(_l("Time slot 3"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    coordinator_attends = BooleanField(_l("The coordinator attends"))

    def slot_pairs(self) -> list[tuple[datetime, datetime]]:
        """Slots as aware UTC datetimes (inputs are in the bureau's time zone)."""
        tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo"))
        out = []
        for field in (self.slot1, self.slot2, self.slot3):
            if field.data:
                start = field.data.replace(tzinfo=tz).astimezone(UTC)
                out.append((start, start + timedelta(minutes=self.duration.data or 60)))
        return out


class PickSlotForm(FlaskForm):
    slot_id = RadioField(_l("Time slot"), coerce=int, validators=[DataRequired()])


class OutcomeForm(FlaskForm):
    stage = SelectField(_l("Outcome"), validators=[DataRequired()])
    on_date = DateField(_l("Date"), validators=[Optional()])
    note = TextAreaField(_l("Note (reason when the case ended)"), validators=[Optional(), Length(max=2000)])


class FitCheckForm(FlaskForm):
    need_id = IntegerField(validators=[DataRequired()])
    text = TextAreaField(_l("Your draft proposal"), validators=[DataRequired(), Length(max=20000)])
