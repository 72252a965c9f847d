"""Calendar invitations (.ics) for first meetings, made with `icalendar`."""

from __future__ import annotations

from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from oims.brokerage.services import participants
from oims.models import Meeting, Proposal, User
from oims.models.base import utcnow


def meeting_ics(meeting: Meeting, proposal: Proposal, user: User | None = None) -> bytes:
    """A VCALENDAR (METHOD:REQUEST) with the meeting as one VEVENT, worded in `user`'s language."""
    locale = (user.language if user else None) or current_app.config.get("BABEL_DEFAULT_LOCALE", "ja")
    with force_locale(locale):
        summary = _("OIMS first meeting: %(title)s", title=proposal.title)
        where = meeting.url if meeting.mode == "online" else meeting.address
        description = "\n".join(filter(None, [
            _("Need: %(title)s", title=proposal.need.title),
            _("Proposal: %(title)s", title=proposal.title),
            (_("Online meeting: %(url)s", url=meeting.url) if meeting.mode == "online"
             else _("Address: %(address)s", address=meeting.address)),
            current_app.config["OIMS_BASE_URL"].rstrip("/") + f"/brokerage/case/{proposal.id}",
        ]))
    cal = Calendar()
    cal.add("prodid", "-//OIMS//Open Innovation Matching Square//JA")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting.uid or f"meeting-{meeting.id}@oims")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", summary)
    event.add("description", description)
    if where:
        event.add("location", where)
    if meeting.mode == "online" and meeting.url:
        event.add("url", meeting.url)
    organizer = vCalAddress("mailto:" + parseaddr(current_app.config["OIMS_MAIL_FROM"])[1])
    organizer.params["cn"] = vText("OIMS")
    event.add("organizer", organizer)
    for person in participants(proposal):
        if person.is_staff and not meeting.coordinator_attends:
            continue
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical()
