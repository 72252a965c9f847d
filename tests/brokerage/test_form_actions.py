"""Form actions on brokerage pages run through `oims.web.actions.run_action`:
a refusal halfway through an action rolls the whole action back and shows
the service's message on the page it came from (issue #14)."""

from __future__ import annotations

from sqlalchemy import select

from oims.models import OutboxMessage, Proposal, ProposalEvent

from ..factories import login


def test_a_refused_shortlist_forwards_nothing(client, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    need = factory.need(owner=owner)
    first = factory.proposal(need, cast.proposer)
    second = factory.proposal(need, cast.other_proposer, title="二件目の提案", stage="declined")  # not shortlistable
    mails_before = len(db.session.scalars(select(OutboxMessage)).all())
    events_before = db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == first.id)).all()

    login(client, coord)
    r = client.post(f"/brokerage/need/{need.id}/shortlist",
                    data={"proposal_ids": [first.id, second.id], "comment": "ご確認ください。"})

    # The first proposal had already moved when the second was refused: all of it is undone.
    assert r.status_code == 400
    assert "二件目の提案" in r.get_data(as_text=True)
    db.session.expire_all()
    first = db.session.get(Proposal, first.id)
    assert first.stage == "submitted" and first.forwarded_at is None and first.shortlisted_by_id is None
    assert db.session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == first.id)).all() == events_before
    assert len(db.session.scalars(select(OutboxMessage)).all()) == mails_before


def test_a_refused_outcome_stays_on_the_case_page_with_its_form(client, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    need = factory.need(owner=owner)
    prop = factory.proposal(need, cast.proposer)
    prop.stage, prop.forwarded_at, prop.shortlisted_by_id = "met", prop.submitted_at, coord.id
    db.session.commit()

    login(client, coord)
    r = client.post(f"/brokerage/case/{prop.id}/outcome", data={"stage": "ended", "on_date": "2026-06-01"})

    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "終了の理由を入力してください。" in html  # the service's message, on the note field
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "met"
