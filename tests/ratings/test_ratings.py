"""Proposers rate how a need owner dealt with their proposal (HTTP, real DB):
once per proposal, only after a decision, only the proposer; the badge shows
averages on named needs and search results once there are five ratings, never
on anonymous needs, and ratings of undisclosed anonymous needs do not move it."""

from __future__ import annotations

from sqlalchemy import func, select

from oims.models import OwnerRating
from oims.models.base import utcnow

from ..factories import login


def _rate(client, proposal, a=4, b=3, c=5):
    return client.post(f"/ratings/proposals/{proposal.id}", data={"clear_reason": a, "on_time": b, "respectful": c})


def _count(db):
    return db.session.scalar(select(func.count(OwnerRating.id)))


def test_proposer_rates_once_after_a_decision_and_others_cannot(db, cast, factory, signed_in):
    owner, proposer = cast.owner, cast.proposer
    need = factory.need(owner=owner)
    waiting = factory.proposal(need, proposer=proposer, stage="shortlisted")
    declined = factory.proposal(factory.need(owner=owner), proposer=proposer, stage="declined",
                                forwarded_at=utcnow())
    client = signed_in(proposer)
    # the case page offers the form after the decision only
    page = client.get(f"/brokerage/case/{declined.id}").get_data(as_text=True)
    assert "owner-rating" in page and 'name="clear_reason"' in page
    assert 'name="clear_reason"' not in client.get(f"/brokerage/case/{waiting.id}").get_data(as_text=True)
    assert _rate(client, waiting).status_code == 403 and _count(db) == 0
    # bad input re-renders with messages and saves nothing
    resp = _rate(client, declined, a=9, b="", c=2)
    assert resp.status_code == 400 and "1〜5" in resp.get_data(as_text=True) and _count(db) == 0
    assert _rate(client, declined).status_code == 302
    row = db.session.scalar(select(OwnerRating))
    assert (row.clear_reason, row.on_time, row.respectful, row.decision, row.owner_org_id, row.counted) == (
        4, 3, 5, "declined", owner.organisation_id, True)
    # once per proposal
    resp = _rate(client, declined, 1, 1, 1)
    assert resp.status_code == 400 and "すでに評価済み" in resp.get_data(as_text=True) and _count(db) == 1
    page = client.get(f"/brokerage/case/{declined.id}").get_data(as_text=True)
    assert "評価済み" in page and 'name="clear_reason"' not in page
    # the owner, the coordinator and another proposer cannot rate it. NB: the route answers 404 to
    # everyone outside the proposing organisation, also to the owner and the coordinator who do see
    # the case (elsewhere a visible object with a refused action is 403): reported, not papered over.
    for user in (owner, cast.coordinator, cast.other_proposer):
        assert _rate(signed_in(user), declined).status_code == 404, user.name
    assert _count(db) == 1


def _rated_owner(db, factory, n, owner=None, anonymous=False, disclosed=True, scores=(5, 4, 3)):
    owner = owner or factory.user("need_owner")
    need = factory.need(owner=owner, anonymous=anonymous)
    for _ in range(n):
        proposer = factory.user("proposer")
        p = factory.proposal(need, proposer=proposer, stage="met", owner_disclosed=disclosed)
        db.session.add(OwnerRating(proposal_id=p.id, need_id=need.id, owner_org_id=owner.organisation_id,
                                   rater_user_id=proposer.id, decision="met", counted=not anonymous or disclosed,
                                   clear_reason=scores[0], on_time=scores[1], respectful=scores[2]))
    db.session.commit()
    return owner, need


def test_badge_shows_averages_from_five_ratings_on_named_needs_only(db, cast, factory, signed_in):
    owner, need = _rated_owner(db, factory, 4)
    viewer = signed_in(cast.proposer)
    assert "fairness-badge" not in viewer.get(f"/needs/{need.id}").get_data(as_text=True)  # 4 < 5
    # the fifth rating, through the real route, with different scores: averages rounded to one decimal
    proposer = factory.user("proposer")
    p = factory.proposal(factory.need(owner=owner), proposer=proposer, stage="declined", forwarded_at=utcnow())
    assert _rate(signed_in(proposer), p, 1, 2, 3).status_code == 302
    page = viewer.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "fairness-badge" in page
    badge = page.split("fairness-badge", 1)[1].split("</span></span>", 1)[0]
    assert "4.2" in badge and "3.6" in badge and "3.0" in badge and "5" in badge  # (5*4+1)/5, (4*4+2)/5, 3
    results = viewer.get("/needs/").get_data(as_text=True)
    assert results.count("fairness-badge") == 2  # both named needs of that owner, in search results
    # an anonymous need of the same owner shows no badge (it would link the owner's needs)
    anon = factory.need(owner=owner, anonymous=True)
    assert "fairness-badge" not in viewer.get(f"/needs/{anon.id}").get_data(as_text=True)


def test_ratings_of_undisclosed_anonymous_needs_do_not_move_the_badge(db, cast, factory, signed_in):
    owner, need = _rated_owner(db, factory, 5)
    viewer = signed_in(cast.proposer)
    before = viewer.get(f"/needs/{need.id}").get_data(as_text=True).split("fairness-badge", 1)[1][:400]
    anon = factory.need(owner=owner, anonymous=True)
    proposer = factory.user("proposer")
    p = factory.proposal(anon, proposer=proposer, stage="declined", forwarded_at=utcnow())
    assert _rate(signed_in(proposer), p, 1, 1, 1).status_code == 302
    assert db.session.scalar(select(OwnerRating).where(OwnerRating.proposal_id == p.id)).counted is False
    after = signed_in(proposer).get(f"/needs/{need.id}").get_data(as_text=True).split("fairness-badge", 1)[1][:400]
    assert after == before
    assert "5件の評価" in after


def test_demo_owner_has_a_badge_and_another_is_below_five(db, app):
    from oims.demo.loader import load_demo
    from oims.models import Need, Organisation

    assert load_demo()["counts"]["owner_ratings"] == 8
    load_demo()
    assert _count(db) == 8  # idempotent
    toto = db.session.scalar(select(Organisation).where(Organisation.name.like("東都モビリティ%")))
    named = db.session.scalar(select(Need).where(Need.owner_org_id == toto.id, Need.anonymous.is_(False),
                                                 Need.status == "published").limit(1))
    client = app.test_client()
    assert login(client, "coordinator@example.jp", "oims-demo-2026").status_code == 302
    page = client.get(f"/needs/{named.id}").get_data(as_text=True)
    assert "fairness-badge" in page and "5件の評価" in page
    sakura = db.session.scalar(select(Need).where(Need.title == "家電筐体への再生プラスチック高配合化"))
    assert "fairness-badge" not in client.get(f"/needs/{sakura.id}").get_data(as_text=True)
