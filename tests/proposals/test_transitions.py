"""Every stage action of the proposal pages, allowed and refused, by role:
the proposer, the need owner, the coordinator of the need's bureau, a
coordinator of another bureau and an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oims.models import AuditLog, ProposalEvent

from .conftest import outbox_to

ROLES = ("proposer", "owner", "coordinator", "elsewhere", "admin")
DECLINE = {"reason": "tech_mismatch", "note": "量産条件に合いません。"}


def _user(cast, role):
    return {"proposer": cast.proposer, "owner": cast.owner, "coordinator": cast.coordinator,
            "elsewhere": cast.other_coordinator, "admin": cast.admin}[role]


# (action, stage before) -> {role: expected status}; 302 means the move happened.
CASES: dict[tuple[str, str], dict[str, int]] = {}


def _cases(action, stage, **expected):
    assert set(expected) == set(ROLES)
    CASES[(action, stage)] = expected


# draft -> submitted: the proposer only; nobody else even sees a draft (admins excepted).
_cases("submit", "draft", proposer=302, owner=404, coordinator=404, elsewhere=404, admin=403)
_cases("submit", "submitted", proposer=400, owner=404, coordinator=403, elsewhere=404, admin=403)
# submitted -> screening: the bureau's coordinators (and admins).
_cases("screen", "submitted", proposer=403, owner=404, coordinator=302, elsewhere=404, admin=302)
_cases("screen", "screening", proposer=403, owner=404, coordinator=400, elsewhere=404, admin=400)
_cases("screen", "draft", proposer=403, owner=404, coordinator=404, elsewhere=404, admin=400)
# declines
_cases("decline", "submitted", proposer=403, owner=404, coordinator=302, elsewhere=404, admin=302)
_cases("decline", "screening", proposer=403, owner=404, coordinator=302, elsewhere=404, admin=302)
_cases("decline", "shortlisted", proposer=403, owner=302, coordinator=302, elsewhere=404, admin=302)
_cases("decline", "meeting_requested", proposer=403, owner=302, coordinator=302, elsewhere=404, admin=302)
_cases("decline", "meeting_scheduled", proposer=403, owner=400, coordinator=400, elsewhere=404, admin=400)
_cases("decline", "declined", proposer=403, owner=404, coordinator=400, elsewhere=404, admin=400)
# withdrawals: the proposer, until a meeting is agreed
for _stage in ("draft", "submitted", "screening"):
    _cases("withdraw", _stage, proposer=302, owner=404, coordinator=404 if _stage == "draft" else 403,
           elsewhere=404, admin=403)
for _stage in ("shortlisted", "meeting_requested"):
    _cases("withdraw", _stage, proposer=302, owner=403, coordinator=403, elsewhere=404, admin=403)
for _stage in ("meeting_scheduled", "met"):
    _cases("withdraw", _stage, proposer=400, owner=403, coordinator=403, elsewhere=404, admin=403)
_cases("withdraw", "withdrawn", proposer=400, owner=404, coordinator=403, elsewhere=404, admin=403)

TARGET = {"submit": "submitted", "screen": "screening", "decline": "declined", "withdraw": "withdrawn"}
DATA = {"decline": DECLINE, "withdraw": {"note": ""}}


@pytest.mark.parametrize("action,stage", list(CASES), ids=[f"{a}-{s}" for a, s in CASES])
def test_stage_action_by_role(cast, need, factory, as_user, db, action, stage):
    """Refused roles first (nothing changes), then each allowed role on its own proposal."""
    expected = CASES[(action, stage)]
    p = factory.proposal(need, cast.proposer, stage=stage)
    events_before = db.session.scalar(select(func.count(ProposalEvent.id)))
    mails_before = outbox_to(db, cast.proposer.email)
    for role in [r for r in ROLES if expected[r] != 302]:
        resp = as_user(_user(cast, role)).post(f"/proposals/{p.id}/{action}", data=DATA.get(action, {}))
        assert resp.status_code == expected[role], (role, resp.get_data(as_text=True)[:2000])
        if expected[role] == 400:
            assert "alert-danger" in resp.get_data(as_text=True)  # a message, on the proposal's page
    db.session.expire_all()
    assert p.stage == stage
    assert db.session.scalar(select(func.count(ProposalEvent.id))) == events_before
    assert outbox_to(db, cast.proposer.email) == mails_before

    for role in [r for r in ROLES if expected[r] == 302]:
        need = factory.need(owner=cast.owner)
        p = factory.proposal(need, cast.proposer, stage=stage)
        actor = _user(cast, role)
        mails_before = len(outbox_to(db, cast.proposer.email))
        resp = as_user(actor).post(f"/proposals/{p.id}/{action}", data=DATA.get(action, {}))
        assert resp.status_code == 302, (role, resp.get_data(as_text=True)[:2000])
        db.session.expire_all()
        assert p.stage == TARGET[action]
        event = db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == p.id)
                                   .order_by(ProposalEvent.id.desc())).first()
        assert (event.from_stage, event.to_stage, event.actor_id) == (stage, TARGET[action], actor.id)
        assert db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.action == f"proposal.{TARGET[action]}", AuditLog.object_id == p.id,
            AuditLog.actor_id == actor.id)) == 1
        # every stage change is told to the proposer
        assert len(outbox_to(db, cast.proposer.email)) == mails_before + 1


def test_refused_transition_message_names_the_stage(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="meeting_scheduled")
    resp = as_user(cast.coordinator).post(f"/proposals/{p.id}/decline", data=DECLINE)
    assert resp.status_code == 400
    assert "面談日程確定" in resp.get_data(as_text=True)


def test_proposal_page_offers_only_the_allowed_actions(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    html = as_user(cast.coordinator).get(f"/proposals/{p.id}").get_data(as_text=True)
    assert f"/proposals/{p.id}/screen" in html and f"/proposals/{p.id}/decline" in html
    assert f"/proposals/{p.id}/withdraw" not in html and f"/proposals/{p.id}/edit" not in html
    html = as_user(cast.proposer).get(f"/proposals/{p.id}").get_data(as_text=True)
    assert f"/proposals/{p.id}/withdraw" in html and f"/proposals/{p.id}/edit" in html
    assert f"/proposals/{p.id}/screen" not in html and f"/proposals/{p.id}/decline" not in html


# --- declines: a structured reason, always sent to the proposer ------------------------

def test_decline_reason_and_note_reach_the_proposer(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="screening")
    before = len(outbox_to(db, cast.proposer.email))
    client = as_user(cast.coordinator)
    resp = client.post(f"/proposals/{p.id}/decline", data={"reason": "cost", "note": "予算の3倍です。"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/proposals/{p.id}")
    db.session.refresh(p)
    assert (p.stage, p.decline_reason, p.decline_note) == ("declined", "cost", "予算の3倍です。")
    [mail] = outbox_to(db, cast.proposer.email)[before:]
    assert "費用・条件が合わない" in mail.body_text and "予算の3倍です。" in mail.body_text
    assert p.title in mail.body_text
    html = as_user(cast.proposer).get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "費用・条件が合わない" in html and "予算の3倍です。" in html


def test_owner_decline_goes_the_same_way(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="shortlisted")
    before = len(outbox_to(db, cast.proposer.email))
    resp = as_user(cast.owner).post(f"/proposals/{p.id}/decline",
                                     data={"reason": "schedule", "note": ""})
    assert resp.status_code == 302
    db.session.refresh(p)
    assert (p.stage, p.decline_reason) == ("declined", "schedule")
    [mail] = outbox_to(db, cast.proposer.email)[before:]
    assert "スケジュールが合わない" in mail.body_text


def test_decline_in_english_for_an_english_speaking_proposer(cast, need, factory, as_user, db):
    cast.proposer.language = "en"
    db.session.commit()
    p = factory.proposal(need, cast.proposer, stage="submitted")
    before = len(outbox_to(db, cast.proposer.email))
    as_user(cast.coordinator).post(f"/proposals/{p.id}/decline", data={"reason": "capacity", "note": ""})
    [mail] = outbox_to(db, cast.proposer.email)[before:]
    assert "Insufficient capacity or team" in mail.body_text and "Declined" in mail.body_text
    assert mail.subject == "[OIMS] Proposal status update"


@pytest.mark.parametrize("data,message", [
    ({"reason": "", "note": "x"}, "一覧から理由を選んでください"),
    ({"reason": "because", "note": "x"}, "一覧から理由を選んでください"),
    ({"reason": "other", "note": " "}, "「その他」を選んだ場合"),
    ({"reason": "cost", "note": "あ" * 2001}, "2000"),
])
def test_decline_bad_input(cast, need, factory, as_user, db, data, message):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    mails = outbox_to(db, cast.proposer.email)
    resp = as_user(cast.coordinator).post(f"/proposals/{p.id}/decline", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.stage == "submitted" and p.decline_reason == ""
    assert outbox_to(db, cast.proposer.email) == mails


def test_withdraw_note_too_long(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    resp = as_user(cast.proposer).post(f"/proposals/{p.id}/withdraw", data={"note": "あ" * 2001})
    assert resp.status_code == 400
    db.session.refresh(p)
    assert p.stage == "submitted"
