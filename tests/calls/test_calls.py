"""Themed calls through HTTP and the real database: a coordinator opens a
call, attaches published needs of several owners, the public page lists them
(anonymous needs under their alias), open calls show on the home page and the
need search, and the call's KPI shows to those who run it only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from oims.models import AuditLog, Meeting, ThemedCall, ThemedCallNeed
from oims.models.base import utcnow

from ..html import texts


@pytest.fixture
def world(db, cast, factory):
    """Needs of two Kanto owners for a call: the cast's owner posts anonymously,
    a second Kanto firm by name (and has a draft)."""
    owner_b = factory.user("need_owner", org=factory.org(kind="large", prefecture="13", name="公開化学株式会社"))
    anon_need = factory.need(owner=cast.owner, anonymous=True, title="CO2分離膜の量産技術")
    named_need = factory.need(owner=owner_b, title="低温排熱の回収技術")
    draft = factory.need(owner=owner_b, status="draft", title="下書きの課題")
    return dict(coord=cast.coordinator, other_coord=cast.other_coordinator, owner_a=cast.owner, owner_b=owner_b,
                proposer=cast.proposer, anon_need=anon_need, named_need=named_need, draft=draft)


def _create(client, **over):
    data = {"title": "カーボンニュートラル技術募集 2027", "title_en": "Carbon-neutral technology call 2027",
            "description": "脱炭素に資する技術を募集します。", "deadline": (date.today() + timedelta(days=60)).isoformat(),
            "bureau": "kanto"}
    data.update(over)
    return client.post("/calls/new", data=data)


def test_coordinator_runs_a_call_and_the_public_page_lists_its_needs(db, world, signed_in, app):
    coord = signed_in(world["coord"])
    resp = _create(coord)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    call = db.session.scalar(select(ThemedCall))
    assert (call.title, call.bureau, call.org_id) == ("カーボンニュートラル技術募集 2027", "kanto",
                                                       world["coord"].organisation_id)
    for need in (world["anon_need"], world["named_need"]):
        assert coord.post(f"/calls/{call.id}/needs", data={"need_id": need.id}).status_code == 302
    # a draft cannot join (publication is the owner's consent), nor a need twice; nothing is saved
    resp = coord.post(f"/calls/{call.id}/needs", data={"need_id": world["draft"].id})
    assert resp.status_code == 400 and "公開" in resp.get_data(as_text=True)
    resp = coord.post(f"/calls/{call.id}/needs", data={"need_id": world["named_need"].id})
    assert resp.status_code == 400
    assert db.session.scalar(select(ThemedCallNeed.id).where(ThemedCallNeed.need_id == world["draft"].id)) is None
    assert len(list(db.session.scalars(select(ThemedCallNeed)))) == 2
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "call.need_added"))

    # the public page, for an anonymous visitor and for a proposer: alias, never the owner's name
    for client in (app.test_client(), signed_in(world["proposer"])):
        page = client.get(f"/calls/{call.id}").get_data(as_text=True)
        assert "カーボンニュートラル技術募集 2027" in page and "CO2分離膜の量産技術" in page
        assert "低温排熱の回収技術" in page and "公開化学株式会社" in page
        assert world["anon_need"].alias in page and world["owner_a"].organisation.name not in page
        assert "call-kpi" not in page and "下書きの課題" not in page
    # in English the English title shows
    en = app.test_client()
    en.post("/lang/en")
    page = en.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Carbon-neutral technology call 2027" in page and "Needs in this call" in page

    # open calls on the home page and the need search
    assert "カーボンニュートラル技術募集 2027" in app.test_client().get("/").get_data(as_text=True)
    browse = signed_in(world["proposer"]).get("/needs/").get_data(as_text=True)
    assert "open-calls" in browse and f"/calls/{call.id}" in browse


def test_call_kpi_counts_proposals_and_meetings_per_need_for_staff_only(db, world, signed_in, factory):
    coord = signed_in(world["coord"])
    _create(coord)
    call = db.session.scalar(select(ThemedCall))
    coord.post(f"/calls/{call.id}/needs", data={"need_id": world["anon_need"].id})
    coord.post(f"/calls/{call.id}/needs", data={"need_id": world["named_need"].id})
    p1 = factory.proposal(world["anon_need"], proposer=world["proposer"], stage="submitted")
    factory.proposal(world["anon_need"], proposer=factory.user("proposer"), stage="draft")
    p3 = factory.proposal(world["named_need"], proposer=world["proposer"], stage="met")
    now = utcnow()
    db.session.add(Meeting(proposal_id=p3.id, proposed_by_id=world["owner_b"].id, status="held", uid="h13-a",
                           starts_at=now - timedelta(days=1), ends_at=now - timedelta(hours=23)))
    db.session.add(Meeting(proposal_id=p1.id, proposed_by_id=world["owner_a"].id, status="proposed", uid="h13-b"))
    db.session.commit()
    page = coord.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "call-kpi" in page
    assert texts(page, "call-kpi-proposals") == ["2"]  # drafts do not count
    assert texts(page, "call-kpi-meetings") == ["1"]   # proposed-only meetings do not count
    # another bureau's coordinator, the owners and proposers see the page without the KPI, cannot edit
    for user in (world["other_coord"], world["owner_a"], world["proposer"]):
        client = signed_in(user)
        assert "call-kpi" not in client.get(f"/calls/{call.id}").get_data(as_text=True)
        assert client.get(f"/calls/{call.id}/edit").status_code == 404
        before = len(list(db.session.scalars(select(ThemedCallNeed))))
        assert client.post(f"/calls/{call.id}/needs/{world['anon_need'].id}/remove").status_code == 404
        assert len(list(db.session.scalars(select(ThemedCallNeed)))) == before
    # proposers cannot open calls
    assert _create(signed_in(world["proposer"])).status_code == 403
    assert db.session.scalar(select(ThemedCall.id).where(ThemedCall.id != call.id)) is None


def test_bad_input_rerenders_and_saves_nothing_and_past_calls_leave_the_home_page(db, world, signed_in, app):
    coord = signed_in(world["coord"])
    resp = _create(coord, title="", deadline="")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "タイトル" in body or "title" in body.lower()
    assert db.session.scalar(select(ThemedCall)) is None
    # a coordinator cannot run a call for another bureau
    assert _create(coord, bureau="kinki").status_code == 400
    assert db.session.scalar(select(ThemedCall)) is None
    _create(coord)
    call = db.session.scalar(select(ThemedCall))
    resp = coord.post(f"/calls/{call.id}/edit", data={"title": "水素技術募集", "deadline": call.deadline.isoformat(),
                                                      "bureau": "kanto"})
    assert resp.status_code == 302
    db.session.refresh(call)
    assert call.title == "水素技術募集"
    call.deadline = date.today() - timedelta(days=1)
    db.session.commit()
    assert "水素技術募集" not in app.test_client().get("/").get_data(as_text=True)
    listing = app.test_client().get("/calls/").get_data(as_text=True)
    assert "calls-closed" in listing and "水素技術募集" in listing


def test_withdrawn_need_leaves_the_public_page(db, world, signed_in, app):
    coord = signed_in(world["coord"])
    _create(coord)
    call = db.session.scalar(select(ThemedCall))
    coord.post(f"/calls/{call.id}/needs", data={"need_id": world["named_need"].id})
    world["named_need"].status = "withdrawn"
    db.session.commit()
    assert "低温排熱の回収技術" not in app.test_client().get(f"/calls/{call.id}").get_data(as_text=True)


def test_demo_has_a_call_with_four_needs_of_several_owners(db, app):
    from oims.demo.loader import load_demo
    from oims.models import Need

    load_demo()
    load_demo()  # idempotent
    call = db.session.scalar(select(ThemedCall).where(ThemedCall.title == "カーボンニュートラル技術募集 2027"))
    assert call is not None and call.bureau == "kanto"
    needs = [db.session.get(Need, e.need_id) for e in call.entries]
    assert len(needs) == 4 and len({n.owner_org_id for n in needs}) == 3 and any(n.anonymous for n in needs)
    page = app.test_client().get(f"/calls/{call.id}").get_data(as_text=True)
    assert "塗装工場のCO2排出削減" in page
    cards = {n.id: next(c for c in page.split("call-need")[1:] if n.title in c) for n in needs}
    for n in needs:
        if n.anonymous:  # the card shows the alias, never the firm
            assert n.alias in cards[n.id] and n.owner_org.name not in cards[n.id]
    assert "カーボンニュートラル技術募集 2027" in app.test_client().get("/").get_data(as_text=True)
