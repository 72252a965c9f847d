"""The whole brokerage journey through the HTTP client (matcher disabled):
need → proposals → coordinator page → invitation → shortlist → question →
answer → meeting slots → .ics → reminder → held → outcome → stall."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from oims.brokerage.meetings import send_meeting_reminders
from oims.brokerage.workspace import response_stats
from oims.models import (
    Invitation,
    Meeting,
    Notification,
    OutboxMessage,
    Proposal,
    ThreadMessage,
)
from oims.models.base import utcnow

from ..factories import login, logout
from ..html import texts

JST = ZoneInfo("Asia/Tokyo")


def _local(days: int, hour: int) -> tuple[str, datetime]:
    start = (datetime.now(JST) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M"), start.astimezone(UTC)


def _outbox(to: str) -> list[OutboxMessage]:
    from oims.extensions import db

    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id)))


def test_full_journey(client, db, cast, factory, runner):
    owner = cast.owner
    coord = cast.coordinator
    alice = cast.proposer
    bob = cast.other_proposer
    carol_org = factory.org(kind="sme", profile="炭素繊維複合材料の成形と評価を行う中小企業です。")
    carol = factory.user("proposer", org=carol_org)
    need = factory.need(owner=owner, anonymous=True)
    pa = factory.proposal(need, alice)
    pb = factory.proposal(need, bob, title="食品工場向け包装ラインの提案")
    owner_name = owner.organisation.name

    # Coordinator's page: both proposals, recommendations section, no ranking without the matcher.
    login(client, coord)
    page = client.get(f"/brokerage/need/{need.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert pa.title in html and pb.title in html

    # One-click invitation of an organisation that has not proposed.
    r = client.post(f"/brokerage/need/{need.id}/invite", data={"org_id": carol_org.id, "rank": 1, "score": 0.8})
    assert r.status_code == 302
    inv = db.session.scalar(select(Invitation).where(Invitation.org_id == carol_org.id))
    assert inv.need_id == need.id and inv.coordinator_id == coord.id and inv.match_rank == 1
    mail = _outbox(carol.email)[-1]
    assert need.title in mail.body_text and need.alias in mail.body_text and owner_name not in mail.body_text
    assert db.session.scalar(select(Notification).where(Notification.user_id == carol.id)).kind == "brokerage_invitation"
    # Inviting twice is refused with a message, nothing saved.
    r = client.post(f"/brokerage/need/{need.id}/invite", data={"org_id": carol_org.id})
    assert r.status_code == 400
    assert len(db.session.scalars(select(Invitation)).all()) == 1

    # Shortlist without a comment: 400, nothing forwarded.
    r = client.post(f"/brokerage/need/{need.id}/shortlist", data={"proposal_ids": [pa.id]})
    assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(Proposal, pa.id).forwarded_at is None

    r = client.post(f"/brokerage/need/{need.id}/shortlist",
                    data={"proposal_ids": [pa.id], "comment": "量産実績があり、初回面談をお勧めします。"})
    assert r.status_code == 302
    db.session.expire_all()
    pa = db.session.get(Proposal, pa.id)
    assert pa.stage == "shortlisted" and pa.forwarded_at is not None and pa.shortlisted_by_id == coord.id
    assert pa.response_due == date.today() + timedelta(days=14)
    assert pa.forward_comment.startswith("量産実績")
    assert any(need.title in m.body_text for m in _outbox(owner.email))
    assert f"/brokerage/need/{need.id}" in client.get("/brokerage/workspace").get_data(as_text=True)
    logout(client)

    # Owner: inbox shows only the forwarded proposal; asks a question.
    login(client, owner)
    assert "panel-awaiting" in client.get("/dashboard").get_data(as_text=True)
    html = client.get("/brokerage/inbox").get_data(as_text=True)
    assert pa.title in html and pb.title not in html
    assert client.get(f"/brokerage/case/{pb.id}").status_code == 404
    r = client.post(f"/brokerage/case/{pa.id}/message", data={"body": "月産能力を教えてください。"})
    assert r.status_code == 302
    assert client.post(f"/brokerage/case/{pa.id}/message", data={"body": ""}).status_code == 400
    logout(client)

    # Proposer: sees the question, not the anonymous owner's name; answers.
    login(client, alice)
    assert f"/brokerage/case/{pa.id}" in client.get("/dashboard").get_data(as_text=True)
    html = client.get(f"/brokerage/case/{pa.id}").get_data(as_text=True)
    assert "月産能力を教えてください。" in html
    assert owner_name not in html and need.alias in html
    assert client.post(f"/brokerage/case/{pa.id}/message", data={"body": "月産2万個です。"}).status_code == 302
    assert client.post(f"/brokerage/case/{pa.id}/respond", data={"action": "meeting"}).status_code == 403
    logout(client)
    assert len(db.session.scalars(select(ThreadMessage)).all()) == 2

    # Owner requests a meeting and proposes time slots.
    login(client, owner)
    assert client.post(f"/brokerage/case/{pa.id}/respond", data={"action": "meeting"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, pa.id).stage == "meeting_requested"
    assert db.session.get(Proposal, pa.id).responded_at is not None
    past, _ = _local(-1, 10)
    r = client.post(f"/brokerage/case/{pa.id}/slots", data={"mode": "online", "url": "https://meet.example.jp/a",
                                                           "duration": 60, "slot1": past})
    assert r.status_code == 400
    s1, s1_utc = _local(3, 10)
    s2, _ = _local(4, 14)
    r = client.post(f"/brokerage/case/{pa.id}/slots", data={
        "mode": "online", "url": "https://meet.example.jp/oims-1", "duration": 60, "slot1": s1, "slot2": s2,
        "coordinator_attends": "y"})
    assert r.status_code == 302
    meeting = db.session.scalar(select(Meeting).where(Meeting.proposal_id == pa.id, Meeting.status == "proposed"))
    assert len(meeting.slots) == 2
    # The side that proposed cannot pick its own slot.
    assert client.post(f"/brokerage/meeting/{meeting.id}/pick", data={"slot_id": meeting.slots[0].id}).status_code == 403
    assert client.get(f"/brokerage/meeting/{meeting.id}/invite.ics").status_code == 404
    logout(client)

    # Proposer picks: meeting scheduled, owner disclosed, .ics e-mailed and downloadable.
    login(client, alice)
    r = client.post(f"/brokerage/meeting/{meeting.id}/pick", data={"slot_id": meeting.slots[0].id})
    assert r.status_code == 302
    db.session.expire_all()
    pa = db.session.get(Proposal, pa.id)
    assert pa.stage == "meeting_scheduled" and pa.owner_disclosed
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.status == "scheduled" and meeting.starts_at == s1_utc
    assert owner_name in client.get(f"/brokerage/case/{pa.id}").get_data(as_text=True)
    sent = [m for m in _outbox(alice.email) if m.attachments]
    assert sent and sent[-1].attachments[0]["content_type"] == "text/calendar"
    cal = Calendar.from_ical(base64.b64decode(sent[-1].attachments[0]["data"]))
    event = cal.walk("VEVENT")[0]
    assert event.decoded("dtstart") == s1_utc and "meet.example.jp/oims-1" in str(event.get("location"))
    r = client.get(f"/brokerage/meeting/{meeting.id}/invite.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    ics = Calendar.from_ical(r.data).walk("VEVENT")[0]
    assert ics.decoded("dtstart") == s1_utc and str(ics.get("uid")) == meeting.uid
    attendees = {str(a).lower() for a in ics.get("attendee")}
    assert f"mailto:{alice.email}" in attendees and f"mailto:{owner.email}" in attendees
    assert f"mailto:{coord.email}" in attendees  # the coordinator attends
    logout(client)
    assert any(m.attachments for m in _outbox(coord.email))

    # Reminders the day before (once), also from the CLI.
    assert send_meeting_reminders(now=s1_utc - timedelta(hours=20)) == 1
    assert send_meeting_reminders(now=s1_utc - timedelta(hours=19)) == 0
    db.session.commit()
    assert "reminded 0" in runner.invoke(args=["oims", "remind-meetings"]).output
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == alice.id)).all()
    assert kinds.count("brokerage_reminder") == 1

    # Not before it starts (issue 11): refused, nothing changed.
    login(client, coord)
    r = client.post(f"/brokerage/meeting/{meeting.id}/held")
    assert r.status_code == 400 and "開始前" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, pa.id).stage == "meeting_scheduled"
    # After the meeting (its time moved into the past): held, then NDA with its date.
    db.session.get(Meeting, meeting.id).starts_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert client.post(f"/brokerage/meeting/{meeting.id}/held").status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, pa.id).stage == "met"
    r = client.post(f"/brokerage/case/{pa.id}/outcome", data={"stage": "ended", "on_date": "2026-06-01"})
    assert r.status_code == 400  # ending needs a reason
    r = client.post(f"/brokerage/case/{pa.id}/outcome", data={"stage": "nda", "on_date": "2026-06-01",
                                                              "note": "秘密保持契約を締結"})
    assert r.status_code == 302
    db.session.expire_all()
    pa = db.session.get(Proposal, pa.id)
    assert pa.stage == "nda" and pa.events[-1].on_date == date(2026, 6, 1)

    # The invited organisation proposes: the proposal remembers the invitation.
    pc = factory.proposal(need, carol)
    assert pc.invitation_id == inv.id

    # Nothing happens for OIMS_STALL_DAYS: the case shows as stalled.
    pa.last_activity_at = utcnow() - timedelta(days=31)
    db.session.commit()
    html = client.get("/dashboard").get_data(as_text=True)
    assert "panel-stalled" in html and pa.title in html
    html = client.get("/brokerage/workspace").get_data(as_text=True)
    assert pa.title in html and carol_org.name in html
    from oims.brokerage.workspace import coordinator_workspace

    ws = coordinator_workspace(coord)
    assert ws["funnel"] == {"invitations": 1, "proposals": 1, "meetings": 0, "deals": 0}
    # NDA is not 成約 (insight.figures: only a contract is a deal)
    assert ws["shortlist_funnel"] == {"shortlisted": 1, "answered": 1, "meetings": 1, "deals": 0}


def test_decline_with_reason_and_response_rate(client, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    need = factory.need(owner=owner)
    props = [factory.proposal(need, stage="shortlisted") for _ in range(3)]
    now = utcnow()
    p_on_time, p_overdue, p_pending = props
    for p in props:
        p.forwarded_at = now - timedelta(days=20)
        p.shortlisted_by_id = coord.id
    p_on_time.response_due = (now - timedelta(days=6)).date()
    p_overdue.response_due = date.today() - timedelta(days=1)
    p_pending.response_due = date.today() + timedelta(days=3)
    db.session.commit()

    login(client, owner)
    # Declining needs a structured reason.
    assert client.post(f"/brokerage/case/{p_on_time.id}/respond", data={"action": "decline"}).status_code == 400
    r = client.post(f"/brokerage/case/{p_on_time.id}/respond",
                    data={"action": "decline", "reason": "cost", "note": "予算超過"})
    assert r.status_code == 302
    db.session.expire_all()
    p = db.session.get(Proposal, p_on_time.id)
    assert p.stage == "declined" and p.decline_reason == "cost" and p.responded_at is not None
    # Answered 20 days after forwarding, but the deadline was 6 days ago: late.
    stats = response_stats(owner.organisation_id)
    assert stats["responded"] == 1 and stats["overdue"] == 1 and stats["pending"] == 1
    assert stats["on_time_rate"] == 0.0 and stats["median_days"] == 20.0
    p.responded_at = p.forwarded_at + timedelta(days=2)
    p.response_due = (p.forwarded_at + timedelta(days=14)).date()
    db.session.commit()
    stats = response_stats(owner.organisation_id)
    assert stats["on_time_rate"] == 0.5 and stats["median_days"] == 2.0

    html = client.get("/brokerage/inbox").get_data(as_text=True)
    assert texts(html, "on-time-rate") == ["50.0%"] and "table-danger" in html
    logout(client)
    login(client, coord)
    assert texts(client.get(f"/brokerage/need/{need.id}").get_data(as_text=True), "on-time-rate") == ["50.0%"]
    html = client.get("/brokerage/workspace").get_data(as_text=True)
    assert html.count("text-bg-danger") == 1  # the one proposal past its deadline, unanswered
