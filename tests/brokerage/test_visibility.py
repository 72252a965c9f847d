"""Who sees what on the brokerage pages: 404 for objects the user may not see,
403 for actions not allowed on visible ones; a proposer never sees other
proposals nor an anonymous owner before the meeting is agreed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from oims.models import Meeting, MeetingSlot, Proposal
from oims.models.base import utcnow

from ..factories import login, logout


@pytest.fixture
def world(cast, factory, db):
    """An anonymous need of the cast's owner: alice (the cast's proposer) asked for a
    meeting with slots offered, bob (the other proposer) only submitted."""
    owner = cast.owner
    people = {"owner": owner, "coord": cast.coordinator, "coord_other": cast.other_coordinator, "admin": cast.admin,
              "alice": cast.proposer, "bob": cast.other_proposer, "other_owner": cast.other_owner}
    need = factory.need(owner=owner, anonymous=True)
    pa = factory.proposal(need, people["alice"], stage="meeting_requested")
    pb = factory.proposal(need, people["bob"], title="ボブ社の別提案", stage="submitted")
    start = utcnow() + timedelta(days=3)
    meeting = Meeting(proposal_id=pa.id, status="proposed", mode="online", url="https://meet.example.jp/x",
                      proposed_by_id=owner.id, uid="m-1@oims",
                      slots=[MeetingSlot(starts_at=start, ends_at=start + timedelta(hours=1))])
    db.session.add(meeting)
    db.session.commit()
    return {"people": people, "need": need, "pa": pa, "pb": pb, "meeting": meeting}


NEED_PAGE = {"coord": 200, "admin": 200, "coord_other": 404, "owner": 404, "alice": 404, "other_owner": 404}
CASE_A = {"owner": 200, "alice": 200, "coord": 200, "admin": 200, "bob": 404, "coord_other": 404, "other_owner": 404}
CASE_B = {"owner": 404, "bob": 200, "alice": 404, "coord": 200, "coord_other": 404}
INBOX = {"owner": 200, "admin": 200, "alice": 403, "coord": 403}
WORKSPACE = {"coord": 200, "admin": 200, "owner": 403, "alice": 403}


def test_access_matrix(client, world):
    """Every brokerage page for every kind of user (one world, many sign-ins)."""
    need_id, pa, pb = world["need"].id, world["pa"].id, world["pb"].id
    pages = [
        (f"/brokerage/need/{need_id}", NEED_PAGE),
        (f"/brokerage/case/{pa}", CASE_A),
        (f"/brokerage/case/{pb}", CASE_B),
        ("/brokerage/inbox", INBOX),
        ("/brokerage/workspace", WORKSPACE),
    ]
    for url, table in pages:
        for who, expected in table.items():
            login(client, world["people"][who])
            assert client.get(url).status_code == expected, (url, who)
            if url.startswith("/brokerage/need/") and expected == 404:
                assert client.post(f"/brokerage/need/{need_id}/invite", data={"org_id": 1}).status_code == 404
                assert client.post(f"/brokerage/need/{need_id}/shortlist", data={"comment": "x"}).status_code == 404
            logout(client)


def test_signed_out_users_are_sent_to_sign_in(client, world):
    for url in (f"/brokerage/need/{world['need'].id}", f"/brokerage/case/{world['pa'].id}", "/brokerage/inbox",
                "/brokerage/workspace", f"/brokerage/fit-check?need_id={world['need'].id}"):
        r = client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_proposer_sees_neither_other_proposals_nor_the_anonymous_owner(client, world):
    people, pa, pb = world["people"], world["pa"], world["pb"]
    owner_name = people["owner"].organisation.name
    login(client, people["alice"])
    html = client.get(f"/brokerage/case/{pa.id}").get_data(as_text=True)
    assert pb.title not in html and people["bob"].organisation.name not in html
    assert owner_name not in html and world["need"].alias in html
    # The meeting is not agreed yet: no calendar file (it would name the owner).
    assert client.get(f"/brokerage/meeting/{world['meeting'].id}/invite.ics").status_code == 404
    # Actions on someone else's proposal: 404, before any work.
    assert client.post(f"/brokerage/case/{pb.id}/message", data={"body": "x"}).status_code == 404
    assert client.post(f"/brokerage/case/{pb.id}/outcome", data={"stage": "nda"}).status_code == 404
    # Actions the proposer may not take on its own case: 403.
    assert client.post(f"/brokerage/case/{pa.id}/respond", data={"action": "decline"}).status_code == 403


def test_other_proposer_cannot_pick_or_download(client, world):
    login(client, world["people"]["bob"])
    meeting = world["meeting"]
    assert client.post(f"/brokerage/meeting/{meeting.id}/pick",
                       data={"slot_id": meeting.slots[0].id}).status_code == 404
    assert client.get(f"/brokerage/meeting/{meeting.id}/invite.ics").status_code == 404


def test_fit_check_only_for_visible_needs(client, world, factory):
    draft = factory.need(status="draft")
    login(client, world["people"]["alice"])
    assert client.get(f"/brokerage/fit-check?need_id={draft.id}").status_code == 404
    assert client.post("/brokerage/fit-check", json={"need_id": draft.id, "text": "x"}).status_code == 404
    assert client.get(f"/brokerage/fit-check?need_id={world['need'].id}").status_code == 200


def test_owner_cannot_forward_or_shortlist_itself(client, world, db):
    login(client, world["people"]["owner"])
    r = client.post(f"/brokerage/need/{world['need'].id}/shortlist",
                    data={"proposal_ids": [world["pb"].id], "comment": "x"})
    assert r.status_code == 404
    assert db.session.scalar(select(Proposal.forwarded_at).where(Proposal.id == world["pb"].id)) is None
