"""Outbox delivery against a real SMTP server (aiosmtpd) started by the test:
the meeting e-mail arrives with its .ics; with the server down the message
stays pending (attempts + 1) and goes out on a later run; nothing is lost."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from oims.brokerage import meetings
from oims.extensions import db as _db
from oims.models import OutboxMessage
from oims.models.base import utcnow

from .conftest import using


class Collect:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return _free_port()


def _start(port: int) -> tuple[Controller, Collect]:
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler


def _scheduled_meeting(factory):
    owner = factory.user("need_owner")
    proposer = factory.user("proposer")
    need = factory.need(owner=owner)
    prop = factory.proposal(need, proposer, stage="meeting_requested")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    meeting = meetings.propose_slots(prop, actor=owner, slots=[(start, start + timedelta(hours=1))],
                                     mode="onsite", address="東京都千代田区霞が関1-3-1")
    meetings.pick_slot(meeting, meeting.slots[0], actor=proposer)
    _db.session.commit()
    return proposer, meeting


def test_meeting_mail_delivered_with_ics(variant_app, factory, smtp_port):
    app = variant_app(OIMS_MAIL_BACKEND="smtp", OIMS_SMTP_HOST="127.0.0.1", OIMS_SMTP_PORT=smtp_port)
    controller, handler = _start(smtp_port)
    try:
        with using(app):
            proposer, meeting = _scheduled_meeting(factory)
            result = app.test_cli_runner().invoke(args=["oims", "send-mail"])
            assert result.exit_code == 0, result.output
            pending = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
            assert pending == []
            proposer_email, uid = proposer.email, meeting.uid
    finally:
        controller.stop()
    to_proposer = [e for e in handler.envelopes if proposer_email in e.rcpt_tos]
    assert to_proposer
    msg = email.message_from_bytes(to_proposer[-1].content)
    calendars = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert calendars and b"BEGIN:VEVENT" in calendars[0].get_payload(decode=True)
    assert uid.encode() in calendars[0].get_payload(decode=True)


def test_server_down_message_stays_pending_then_delivered(variant_app, factory, smtp_port):
    app = variant_app(OIMS_MAIL_BACKEND="smtp", OIMS_SMTP_HOST="127.0.0.1", OIMS_SMTP_PORT=smtp_port)
    with using(app):
        proposer, _meeting = _scheduled_meeting(factory)
        ids = _db.session.scalars(select(OutboxMessage.id)).all()
        assert ids
        runner = app.test_cli_runner()
        # Nobody listens on the port: every message fails and stays pending.
        result = runner.invoke(args=["oims", "send-mail"])
        assert f"sent 0, failed {len(ids)}" in result.output
        _db.session.expire_all()
        for msg in _db.session.scalars(select(OutboxMessage)):
            assert msg.status == "pending" and msg.attempts == 1 and msg.last_error
            assert msg.next_attempt_at > utcnow()  # backed off
        # Not due yet: a run right away sends nothing and counts no new failure.
        assert "sent 0, failed 0" in runner.invoke(args=["oims", "send-mail"]).output
        # Time passes beyond the back-off; the server is up again.
        for msg in _db.session.scalars(select(OutboxMessage)):
            msg.next_attempt_at = utcnow() - timedelta(seconds=1)
        _db.session.commit()
        controller, handler = _start(smtp_port)
        try:
            result = runner.invoke(args=["oims", "send-mail"])
        finally:
            controller.stop()
        assert f"sent {len(ids)}, failed 0" in result.output
        _db.session.expire_all()
        msgs = _db.session.scalars(select(OutboxMessage)).all()
        assert {m.status for m in msgs} == {"sent"} and all(m.attempts == 2 for m in msgs)
        assert len(handler.envelopes) == len(ids)  # nothing lost, nothing sent twice
        assert any(proposer.email in e.rcpt_tos for e in handler.envelopes)
