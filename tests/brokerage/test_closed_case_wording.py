"""Issue 13, wording and states: one word (見送り) for a decline on both sides;
a declined case offers no meeting and no open message form, and the routes
refuse them; every time is shown without seconds in one format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from oims.models import Meeting, Notification, OutboxMessage, Proposal, ThreadMessage

from ..factories import login, logout

JST = ZoneInfo("Asia/Tokyo")
SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
ONE_FORMAT = re.compile(r"\b\d{4}/\d{2}/\d{2} \d{2}:\d{2}\b")


def _slot(days: int) -> str:
    start = (datetime.now(JST) + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M")


def _visible(html: str) -> str:
    """Page text without attributes (machine timestamps may keep seconds there)."""
    return re.sub(r"<[^>]+>", " ", html)


def _forwarded_case(client, factory, db):
    owner = factory.user("need_owner")
    coord = factory.user("coordinator")
    alice = factory.user("proposer")
    need = factory.need(owner=owner, anonymous=True)
    prop = factory.proposal(need, alice)
    login(client, coord)
    assert client.post(f"/brokerage/need/{need.id}/shortlist",
                       data={"proposal_ids": [prop.id], "comment": "面談をお勧めします。"}).status_code == 302
    logout(client)
    return owner, coord, alice, prop


def test_declined_case_is_closed_and_says_miokuri(client, db, factory):
    owner, coord, alice, prop = _forwarded_case(client, factory, db)
    login(client, owner)
    page = client.get(f"/brokerage/case/{prop.id}").get_data(as_text=True)
    # The owner's answer form calls a decline 見送り, never 却下 or 辞退.
    assert "この提案を見送る" in page and "却下" not in page and "辞退" not in page
    assert client.post(f"/brokerage/case/{prop.id}/message", data={"body": "月産能力は？"}).status_code == 302
    assert client.post(f"/brokerage/case/{prop.id}/respond", data={"action": "meeting"}).status_code == 302
    r = client.post(f"/brokerage/case/{prop.id}/slots", data={
        "mode": "online", "url": "https://meet.example.jp/x", "duration": 60, "slot1": _slot(3)})
    assert r.status_code == 302
    meeting = db.session.scalar(select(Meeting).where(Meeting.proposal_id == prop.id))
    slot_id = meeting.slots[0].id
    r = client.post(f"/brokerage/case/{prop.id}/respond",
                    data={"action": "decline", "reason": "cost", "note": "予算の範囲を超えています。"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "declined"
    assert db.session.get(Meeting, meeting.id).status == "cancelled"
    # The owner cannot propose new slots on a closed case either.
    r = client.post(f"/brokerage/case/{prop.id}/slots", data={
        "mode": "online", "url": "https://meet.example.jp/y", "duration": 60, "slot1": _slot(4)})
    assert r.status_code == 403
    logout(client)

    login(client, alice)
    html = client.get(f"/brokerage/case/{prop.id}").get_data(as_text=True)
    assert "見送り" in html and "辞退" not in html and "却下" not in html
    assert "case-closed" in html
    assert f"/brokerage/case/{prop.id}/message" not in html       # no open message form
    assert f"/brokerage/meeting/{meeting.id}/pick" not in html     # no meeting offered
    assert f"/brokerage/case/{prop.id}/slots" not in html
    assert "月産能力は？" in html                                      # the thread stays readable
    before = db.session.scalar(select(func.count(ThreadMessage.id)))
    assert client.post(f"/brokerage/case/{prop.id}/message", data={"body": "再検討をお願いします"}).status_code == 403
    assert client.post(f"/brokerage/meeting/{meeting.id}/pick", data={"slot_id": slot_id}).status_code == 403
    assert db.session.scalar(select(func.count(ThreadMessage.id))) == before
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "declined"
    # The proposal page, the notification and the e-mail use the same word.
    view = client.get(f"/proposals/{prop.id}").get_data(as_text=True)
    assert "見送り" in view and "辞退" not in view
    note = db.session.scalars(select(Notification).where(Notification.user_id == alice.id,
                                                         Notification.kind == "proposal_stage")
                              .order_by(Notification.id.desc())).first()
    assert "見送り" in note.text
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == alice.email)
                              .order_by(OutboxMessage.id.desc())).first()
    assert "見送り" in mail.body_text and "辞退" not in mail.body_text


def test_times_have_no_seconds_and_one_format(client, db, factory):
    owner, coord, alice, prop = _forwarded_case(client, factory, db)
    login(client, alice)
    assert client.post(f"/brokerage/case/{prop.id}/message", data={"body": "よろしくお願いします。"}).status_code == 302
    for url in (f"/brokerage/case/{prop.id}", f"/proposals/{prop.id}", "/proposals/mine"):
        text = _visible(client.get(url).get_data(as_text=True))
        assert not SECONDS.search(text), (url, SECONDS.search(text).group(0))
        assert ONE_FORMAT.search(text), url
    # The thread message time is shown in the service's zone, to the minute.
    msg = db.session.scalar(select(ThreadMessage).where(ThreadMessage.proposal_id == prop.id))
    created = msg.created_at if msg.created_at.tzinfo else msg.created_at.replace(tzinfo=UTC)
    expected = created.astimezone(JST).strftime("%Y/%m/%d %H:%M")
    assert expected in client.get(f"/brokerage/case/{prop.id}").get_data(as_text=True)


def test_dt_filter_is_the_only_format(app):
    from datetime import date

    from oims.core.timeutil import format_local

    with app.app_context():
        assert format_local(datetime(2026, 12, 1, 23, 5, 59, tzinfo=UTC)) == "2026/12/02 08:05"
        assert format_local(datetime(2026, 12, 1, 23, 5, 59)) == "2026/12/02 08:05"  # naive = UTC
        assert format_local(date(2026, 4, 1)) == "2026/04/01"
        assert app.jinja_env.filters["dt"](datetime(2026, 12, 1, 23, 5, 59, tzinfo=UTC), "medium") == "2026/12/02 08:05"
