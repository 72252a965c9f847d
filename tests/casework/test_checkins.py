"""Follow-up check-ins: sent by the CLI 2/6/12 weeks after a held meeting,
answered from the e-mail link without signing in (the answer moves the case
consistently), unanswered ones listed with the coordinator's stalled cases."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from oims.checkins import services
from oims.models import CheckIn, OutboxMessage, Proposal, ProposalEvent
from oims.models.base import utcnow


def _links(db):
    found = {}
    for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        match = re.search(r"(/checkin/[\w.\-]+)", m.body_text)
        if match:
            found.setdefault(m.to, match.group(1))
    return found


def test_cli_sends_the_due_checkin_once_to_both_parties(app, db, cast, case, runner):
    result = runner.invoke(args=["oims", "send-checkins"])
    assert result.exit_code == 0 and "check-ins sent: 1" in result.output
    (checkin,) = db.session.scalars(select(CheckIn)).all()
    assert checkin.weeks == 2 and checkin.meeting_id == case.meeting.id
    links = _links(db)
    assert set(links) == {cast.owner.email, cast.proposer.email}  # not the coordinator
    # run again: nothing new (idempotent, cron-safe)
    assert "check-ins sent: 0" in runner.invoke(args=["oims", "send-checkins"]).output
    # at 6 weeks the next one is due; a late first run sends one check-in, not two
    assert services.send_checkins(now=utcnow() + timedelta(weeks=10)) == 1
    assert sorted(c.weeks for c in db.session.scalars(select(CheckIn))) == [2, 12]


def test_answer_from_the_link_without_signing_in_updates_the_case(app, db, cast, case, runner):
    runner.invoke(args=["oims", "send-checkins"])
    link = _links(db)[cast.owner.email]
    phone = app.test_client()
    page = phone.get(link, headers={"User-Agent": "Mozilla/5.0 (iPhone)"})
    assert page.status_code == 200 and case.proposal.title in page.get_data(as_text=True)
    resp = phone.post(link, data={"answer": "nda", "note": "12月1日にNDA締結"})
    assert resp.status_code == 200 and "checkin-done" in resp.get_data(as_text=True)
    proposal = db.session.get(Proposal, case.proposal.id)
    assert proposal.stage == "nda"
    event = db.session.scalar(select(ProposalEvent).where(ProposalEvent.to_stage == "nda"))
    assert event.actor_id == cast.owner.id and event.on_date is not None
    checkin = db.session.scalar(select(CheckIn))
    assert checkin.answer == "nda" and checkin.answered_by_id == cast.owner.id
    # the other party's link now shows the answer and cannot answer again
    other = app.test_client()
    link2 = _links(db)[cast.proposer.email]
    assert "checkin-done" in other.get(link2).get_data(as_text=True)
    resp = other.post(link2, data={"answer": "ended"})
    assert db.session.get(Proposal, case.proposal.id).stage == "nda"
    assert db.session.scalar(select(CheckIn)).answer == "nda"


def test_continuing_keeps_the_stage_and_a_bad_answer_is_refused(app, db, cast, case, runner, signed_in):
    runner.invoke(args=["oims", "send-checkins"])
    link = _links(db)[cast.proposer.email]
    client = app.test_client()
    assert client.post(link, data={"answer": "maybe"}).status_code == 400
    assert db.session.scalar(select(CheckIn)).answered_at is None
    assert client.post(link, data={"answer": "continuing", "note": "サンプル評価中"}).status_code == 200
    assert db.session.get(Proposal, case.proposal.id).stage == "met"
    assert db.session.scalar(select(CheckIn)).answer == "continuing"
    page = signed_in(cast.coordinator).get(f"/brokerage/case/{case.proposal.id}").get_data(as_text=True)
    assert "case-checkins" in page and "サンプル評価中" in page


def test_bad_or_foreign_tokens_are_refused(app, db, cast, factory, case, runner):
    runner.invoke(args=["oims", "send-checkins"])
    link = _links(db)[cast.owner.email]
    client = app.test_client()
    assert client.get(link[:-3] + "abc").status_code == 404
    assert client.get("/checkin/not-a-valid-token").status_code == 404
    # a link made for someone who is not a party is refused even when signed
    stranger = factory.user("proposer")
    token = services.make_token(db.session.scalar(select(CheckIn)), stranger)
    assert client.get(f"/checkin/{token}").status_code == 404


def test_unanswered_checkins_show_with_the_stalled_cases(app, db, cast, case, signed_in):
    services.send_checkins(now=utcnow() - timedelta(days=1))
    db.session.commit()
    checkin = db.session.scalar(select(CheckIn))
    checkin.sent_at = utcnow() - timedelta(days=10)
    db.session.commit()
    page = signed_in(cast.coordinator).get("/brokerage/workspace").get_data(as_text=True)
    assert "unanswered-checkins" in page and f"/brokerage/case/{case.proposal.id}" in page
    dash = signed_in(cast.coordinator).get("/dashboard").get_data(as_text=True)
    assert "unanswered-checkins" in dash
    assert "unanswered-checkins" not in signed_in(cast.other_coordinator).get("/brokerage/workspace").get_data(as_text=True)
