"""Two real transactions race for the same stage change: threads with their
own app context, session and database connection, held at a barrier after
both have read the object, so both act on the same stage. Exactly one wins,
the loser gets StaleState (a clear message; 409 in the API) and the history
(events, audit rows) records the winner only. Runs on SQLite and, with
OIMS_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from oims.core.exceptions import StaleState
from oims.extensions import db as _db
from oims.models import AuditLog, Need, Proposal, ProposalEvent, User

from ..rows import last_id, rows_after


def race(app, *actions):
    """Run `actions` (each: loader() -> objects, then act(objects)) in threads
    that meet at a barrier between loading and acting; returns per action
    "won" or the loser's StaleState message."""
    barrier = threading.Barrier(len(actions), timeout=30)
    results: list = [None] * len(actions)

    def run(i, load, act):
        with app.app_context(), app.test_request_context():
            try:
                objs = load()
                barrier.wait()
                act(*objs)
                _db.session.commit()
                results[i] = "won"
            except StaleState as exc:
                _db.session.rollback()
                results[i] = exc
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                _db.session.rollback()
                results[i] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _one_winner(results) -> int:
    assert all(r == "won" or isinstance(r, StaleState) for r in results), results
    assert sum(r == "won" for r in results) == 1, results
    return results.index("won")


@pytest.fixture
def parties(cast, factory):
    """The cast's owner, proposer and Kanto coordinator, and a published need of the owner."""
    return cast.owner, cast.proposer, cast.coordinator, factory.need(owner=cast.owner)


def _get(model, obj_id):
    return _db.session.get(model, obj_id)


def _events(pid, since):
    """The proposal's stage changes after the `since` mark (the race's, not the factory's)."""
    _db.session.expire_all()
    return [(e.from_stage, e.to_stage) for e in rows_after(_db, ProposalEvent, since, ProposalEvent.proposal_id == pid)]


@pytest.mark.parametrize("round_", range(3))
def test_withdraw_races_forward(app, db, factory, parties, round_):
    from oims.brokerage.shortlist import forward_shortlist
    from oims.proposals.services import withdraw_proposal

    _owner, proposer, coord, need = parties
    prop = factory.proposal(need, proposer, stage="screening")
    pid, nid, puid, cuid = prop.id, need.id, proposer.id, coord.id
    events, audits = last_id(db, ProposalEvent), last_id(db, AuditLog)
    results = race(
        app,
        (lambda: (_get(Proposal, pid), _get(User, puid)),
         lambda p, u: withdraw_proposal(p, actor=u, note="他社と契約")),
        (lambda: (_get(Need, nid), _get(Proposal, pid), _get(User, cuid)),
         lambda n, p, u: forward_shortlist(n, [p], actor=u, comment="ご検討ください")),
    )
    winner = _one_winner(results)
    db.session.expire_all()
    stage = db.session.get(Proposal, pid).stage
    assert stage == ("withdrawn", "shortlisted")[winner]
    assert _events(pid, events) == [[("screening", "withdrawn")], [("screening", "shortlisted")]][winner]
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == pid, AuditLog.id > audits,
                                                                     AuditLog.object_type == "proposal")))
    # screening -> shortlisted is one audit row; the loser left none.
    assert actions == [{"proposal.withdrawn"}, {"proposal.shortlisted"}][winner]
    loser = results[1 - winner]
    assert "in the meantime" in str(loser) or "その間" in str(loser) or "他の人" in str(loser)
    assert (db.session.get(Proposal, pid).forwarded_at is None) == (winner == 0)


def test_owner_accepts_while_proposer_withdraws(app, db, factory, parties):
    from oims.brokerage.services import request_meeting
    from oims.proposals.services import withdraw_proposal

    owner, proposer, _coord, need = parties
    prop = factory.proposal(need, proposer, stage="shortlisted")
    pid, ouid, puid = prop.id, owner.id, proposer.id
    events = last_id(db, ProposalEvent)
    results = race(
        app,
        (lambda: (_get(Proposal, pid), _get(User, ouid)), lambda p, u: request_meeting(p, actor=u)),
        (lambda: (_get(Proposal, pid), _get(User, puid)), lambda p, u: withdraw_proposal(p, actor=u)),
    )
    winner = _one_winner(results)
    db.session.expire_all()
    assert db.session.get(Proposal, pid).stage == ("meeting_requested", "withdrawn")[winner]
    assert _events(pid, events) == [[("shortlisted", "meeting_requested")], [("shortlisted", "withdrawn")]][winner]
    # The loser's side effects are gone with its transaction (responded_at is the owner's).
    assert (db.session.get(Proposal, pid).responded_at is not None) == (winner == 0)


def test_need_published_while_owner_withdraws(app, db, factory, parties):
    from oims.needs.services import publish, withdraw

    owner, _proposer, coord, _ = parties
    need = factory.need(owner=owner, status="review")
    nid, ouid, cuid = need.id, owner.id, coord.id
    audits = last_id(db, AuditLog)
    results = race(
        app,
        (lambda: (_get(Need, nid), _get(User, cuid)), lambda n, u: publish(n, u)),
        (lambda: (_get(Need, nid), _get(User, ouid)), lambda n, u: withdraw(n, u)),
    )
    winner = _one_winner(results)
    db.session.expire_all()
    need = db.session.get(Need, nid)
    assert need.status == ("published", "withdrawn")[winner]
    assert (need.published_at is not None) == (winner == 0)
    actions = list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == nid, AuditLog.id > audits,
                                                                      AuditLog.object_type == "need")))
    assert actions == [["need.published"], ["need.withdrawn"]][winner]


def test_need_closed_while_marked_fulfilled(app, db, factory, parties):
    from oims.needs.services import mark_fulfilled, withdraw

    owner, _proposer, coord, need = parties
    nid, ouid, cuid = need.id, owner.id, coord.id
    results = race(
        app,
        (lambda: (_get(Need, nid), _get(User, cuid)), lambda n, u: mark_fulfilled(n, u)),
        (lambda: (_get(Need, nid), _get(User, ouid)), lambda n, u: withdraw(n, u)),
    )
    winner = _one_winner(results)
    db.session.expire_all()
    assert db.session.get(Need, nid).status == ("fulfilled", "withdrawn")[winner]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.object_id == nid, AuditLog.action.in_(("need.fulfilled", "need.withdrawn")))) == 1


def test_http_race_api_withdraw_vs_page_forward(app, db, factory, parties, monkeypatch):
    """The same race through the real paths: the proposer withdraws over the
    API while the coordinator forwards on the brokerage page. Both requests
    are held just before their stage change (after every check passed); one
    wins, the other gets its clear answer: 409 problem+json in the API, the
    message on the page."""
    from oims.api.auth import issue_token
    from oims.proposals import workflow

    from ..factories import login

    _owner, proposer, coord, need = parties
    prop = factory.proposal(need, proposer, stage="screening")
    pid, nid = prop.id, need.id
    events = last_id(db, ProposalEvent)
    token, _row = issue_token(proposer, "race")
    db.session.commit()
    page = app.test_client()
    assert login(page, coord).status_code == 302
    api = app.test_client()

    real = workflow.claim_state
    barrier = threading.Barrier(2, timeout=30)

    def gated(*args, **kwargs):
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow, "claim_state", gated)
    answers: dict = {}

    def withdraw():
        answers["api"] = api.post(f"/api/v1/proposals/{pid}/withdraw", json={"note": "他社に決定"},
                                  headers={"Authorization": f"Bearer {token}"})

    def forward():
        answers["page"] = page.post(f"/brokerage/need/{nid}/shortlist",
                                    data={"proposal_ids": [pid], "comment": "ご検討ください"})

    threads = [threading.Thread(target=withdraw), threading.Thread(target=forward)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    api_resp, page_resp = answers["api"], answers["page"]
    db.session.expire_all()
    stage = db.session.get(Proposal, pid).stage
    if api_resp.status_code == 200:
        assert stage == "withdrawn" and page_resp.status_code == 409  # the page lost a race: 409, like the API
        assert "その間に他の利用者" in page_resp.get_data(as_text=True)
        assert _events(pid, events) == [("screening", "withdrawn")]
    else:
        assert api_resp.status_code == 409 and api_resp.mimetype == "application/problem+json"
        assert api_resp.get_json()["current"] == "shortlisted"
        assert page_resp.status_code == 302 and stage == "shortlisted"
        assert _events(pid, events) == [("screening", "shortlisted")]
