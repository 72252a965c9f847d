"""The JSON API: the same visibility as the pages, problem+json errors,
pagination, and calls into the needs/proposals services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from oims.models import Meeting, Need, Proposal

from ..insight import world


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    return resp.get_json()


NEW_NEED = {"title": "水素燃料電池の冷却部材", "summary": "燃料電池スタックの冷却板を共同開発したい。",
            "partnership_types": ["joint_rnd"], "keywords": ["水素", "冷却"], "anonymous": True}


def _deadline(days=60):
    return (date.today() + timedelta(days=days)).isoformat()


# --- needs -------------------------------------------------------------------------------

def test_needs_list_is_paginated(api, cast, factory):
    owner = cast.owner
    for _ in range(3):
        factory.need(owner=owner)
    caller = api(cast.proposer)
    resp = caller.get("/needs", query_string={"per_page": 2})
    body = resp.get_json()
    assert resp.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'
    assert (body["total"], body["pages"], body["page"], len(body["items"])) == (3, 2, 1, 2)
    assert body["links"]["next"].endswith("page=2") and body["links"]["prev"] is None
    body2 = caller.get("/needs", query_string={"per_page": 2, "page": 2}).get_json()
    assert len(body2["items"]) == 1 and body2["links"]["next"] is None and body2["links"]["prev"]
    assert {n["id"] for n in body["items"]}.isdisjoint({n["id"] for n in body2["items"]})
    for bad in ({"per_page": 0}, {"per_page": 101}, {"page": "x"}, {"status": "nope"}, {"status": ""},
                {"page": ""}):
        assert _problem(caller.get("/needs", query_string=bad), 400)["errors"]
    # Control characters are stripped at the edge (oims.inputs), as in every form and JSON field.
    assert "q=ab" in caller.get("/needs", query_string={"q": "a\x00b"}).get_json()["links"]["self"]


def test_anonymous_owner_is_an_alias_for_proposers(api, cast, factory):
    need = factory.need(cast.owner, anonymous=True)
    body = api(cast.proposer).get(f"/needs/{need.id}").get_json()
    assert body["owner"] == {"name": need.alias, "disclosed": False, "organisation_id": None}
    listed = api(cast.proposer).get("/needs").get_json()["items"]
    assert need.owner_org.name not in str(listed)
    staff = api(cast.admin).get(f"/needs/{need.id}").get_json()
    assert staff["owner"] == {"name": need.owner_org.name, "disclosed": True, "organisation_id": need.owner_org_id}


def test_draft_needs_are_404_for_others(api, cast, factory):
    need = factory.need(cast.owner, status="draft")
    _problem(api(cast.proposer).get(f"/needs/{need.id}"), 404)
    _problem(api(cast.proposer).get("/needs/999999"), 404)
    assert api(cast.owner).get(f"/needs/{need.id}").status_code == 200


def test_create_need_as_draft(api, cast, db):
    owner = cast.owner
    resp = api(owner).post("/needs", json=NEW_NEED | {"deadline": _deadline()})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "draft" and body["anonymous"] and body["title"] == NEW_NEED["title"]
    assert resp.headers["Location"].endswith(f"/api/v1/needs/{body['id']}")
    need = db.session.get(Need, body["id"])
    assert need.owner_org_id == owner.organisation_id and need.alias


def test_create_need_errors(api, cast, client):
    owner = api(cast.owner)
    body = _problem(owner.post("/needs", json={"title": "", "partnership_types": ["x"]}), 422)
    assert {"title", "summary", "partnership_types", "deadline"} <= set(body["errors"])
    body = _problem(owner.post("/needs", json=NEW_NEED | {"deadline": "2020-01-01"}), 422)
    assert "deadline" in body["errors"]
    _problem(owner.post("/needs", json=NEW_NEED | {"deadline": _deadline(), "status": "published"}), 422)
    _problem(client.post("/api/v1/needs", headers=owner.headers, data="not json",
                         content_type="application/json"), 400)
    _problem(api(cast.proposer).post("/needs", json=NEW_NEED | {"deadline": _deadline()}), 403)


def test_update_need(api, cast, factory, db):
    need = factory.need(cast.owner, status="draft")
    owner = api(cast.owner)
    owner.headers["If-Match"] = owner.get(f"/needs/{need.id}").headers["ETag"]  # optimistic concurrency
    resp = owner.patch(f"/needs/{need.id}", json={"title": "改題：冷却部材"})
    assert resp.status_code == 200 and resp.get_json()["title"] == "改題：冷却部材"
    db.session.refresh(need)
    assert need.title == "改題：冷却部材" and "改題" in need.search_text  # stored, and found by search
    _problem(owner.patch(f"/needs/{need.id}", json={}), 422)
    _problem(api(cast.other_owner).patch(f"/needs/{need.id}", json={"title": "x"}), 404)
    published = factory.need(cast.owner)
    _problem(api(cast.other_owner).patch(f"/needs/{published.id}", json={"title": "x"}), 403)


# --- proposals -----------------------------------------------------------------------------

@pytest.fixture
def w(factory, db):
    return world.build(factory, db, anonymous_n1=True)


def check_proposers_see_only_their_own_proposals(api, w):
    s1 = api(w["proposers"]["S1"])
    ids = {p["id"] for p in s1.get("/proposals").get_json()["items"]}
    assert ids == {w["P1"].id, w["P5"].id}
    _problem(s1.get(f"/proposals/{w['P2'].id}"), 404)
    assert s1.get(f"/proposals/{w['P1'].id}").get_json()["organisation"]["name"] == "愛知精密加工株式会社"
    filtered = s1.get("/proposals", query_string={"need_id": w["N3"].id}).get_json()
    assert [p["id"] for p in filtered["items"]] == [w["P5"].id]


def check_need_owner_sees_forwarded_proposals_only(api, w):
    ids = {p["id"] for p in api(w["owner_a"]).get("/proposals").get_json()["items"]}
    assert ids == {w["P1"].id, w["P2"].id, w["P3"].id}
    _problem(api(w["owner_a"]).get(f"/proposals/{w['P8'].id}"), 404)


def test_create_and_withdraw_proposal(api, cast, factory, w, db):
    need = factory.need(cast.owner, anonymous=False)
    s2 = api(w["proposers"]["S2"])
    resp = s2.post("/proposals", json={"need_id": need.id, "title": "大学の冷却技術による提案"})
    assert resp.status_code == 201, resp.get_json()
    pid = resp.get_json()["id"]
    assert resp.get_json()["stage"] == "draft"
    body = _problem(s2.post("/proposals", json={"need_id": need.id, "title": "二つ目"}), 409)
    assert body["detail"]
    _problem(api(w["proposers"]["S1"]).post(f"/proposals/{pid}/withdraw"), 404)
    resp = s2.post(f"/proposals/{pid}/withdraw", json={"note": "社内事情により"})
    assert resp.status_code == 200 and resp.get_json()["stage"] == "withdrawn"
    assert db.session.get(Proposal, pid).stage == "withdrawn"
    # After a meeting a proposal cannot be withdrawn.
    _problem(api(w["proposers"]["S3"]).post(f"/proposals/{w['P3'].id}/withdraw"), 409)


def check_create_proposal_errors(api, w):
    s2 = api(w["proposers"]["S2"])
    body = _problem(s2.post("/proposals", json={"need_id": w["N5"].id, "title": "x"}), 422)
    assert "need_id" in body["errors"]  # a draft need is invisible to it
    _problem(s2.post("/proposals", json={"title": "x"}), 422)
    _problem(s2.post("/proposals", json={"need_id": w["N2"].id, "title": "x" * 201}), 422)
    _problem(api(w["owner_b"]).post("/proposals", json={"need_id": w["N1"].id, "title": "x"}), 403)


# --- meetings --------------------------------------------------------------------------------

def check_meetings_follow_proposal_visibility(api, w, db):
    meeting = db.session.query(Meeting).one()
    s4 = api(w["proposers"]["S4"])
    assert s4.get(f"/meetings/{meeting.id}").get_json()["status"] == "held"
    assert [m["id"] for m in s4.get("/meetings").get_json()["items"]] == [meeting.id]
    _problem(api(w["proposers"]["S1"]).get(f"/meetings/{meeting.id}"), 404)
    assert api(w["proposers"]["S1"]).get("/meetings").get_json()["total"] == 0


# --- matches ----------------------------------------------------------------------------------

def check_matches_are_for_the_needs_coordinators(api, w, db):
    _problem(api(w["proposers"]["S1"]).get(f"/needs/{w['N1'].id}/matches"), 403)
    _problem(api(w["coord_kanto"]).get(f"/needs/{w['N1'].id}/matches"), 403)
    body = _problem(api(w["coord_chubu"]).get(f"/needs/{w['N1'].id}/matches"), 503)  # matcher off in tests
    assert body["title"]
    s1 = api(w["proposers"]["S1"])
    assert s1.get("/matches/needs").get_json() == {"kind": "needs", "items": []}  # empty profile: nothing to match
    w["orgs"]["S1"].profile = "CFRPの射出成形と金型温度制御"
    db.session.commit()
    _problem(s1.get("/matches/needs"), 503)


def test_matches_use_the_matching_service(api, w, monkeypatch):
    from matching import Reason, Result
    from oims.matcher import service as matching_service
    from oims.matcher.service import RankedProposalHit as Hit

    ranked = [Hit(w["P8"].id, 0.9, [Reason("CFRP", ["CFRP"])], [], 0.82, "high"),
              Hit(w["P1"].id, 0.8, [], [], 0.4, "medium"),
              Hit(w["P3"].id, 0.7, [], [], 0.1, "low")]  # P3 belongs to another need: dropped
    monkeypatch.setattr(matching_service, "rank_proposals", lambda need, k=100: ranked)
    monkeypatch.setattr(matching_service, "recommend_orgs",
                        lambda need, k=20, **kw: [Result(w["orgs"]["S4"].id, 0.5, [])])
    monkeypatch.setattr(matching_service, "needs_for_org",
                        lambda org, k=10, **kw: [Result(w["N1"].id, 0.6, []), Result(w["N5"].id, 0.5, [])])
    coord = api(w["coord_chubu"])
    body = coord.get(f"/needs/{w['N1'].id}/matches").get_json()
    assert [(i["rank"], i["proposal_id"]) for i in body["items"]] == [(1, w["P8"].id), (2, w["P1"].id)]
    assert body["items"][0]["reasons"] == ["CFRP [CFRP]"]
    # the matcher's own calibration is what the API reports, not a curve on the raw score
    assert [(i["probability"], i["band"]) for i in body["items"]] == [(0.82, "high"), (0.4, "medium")]
    body = coord.get(f"/needs/{w['N1'].id}/matches", query_string={"kind": "organisations"}).get_json()
    assert body["items"][0]["organisation"]["name"] == "名古屋樹脂成形株式会社"
    body = api(w["proposers"]["S2"]).get("/matches/needs").get_json()
    assert [i["need_id"] for i in body["items"]] == [w["N1"].id]  # the draft N5 is not shown
    assert body["items"][0]["owner"]["disclosed"] is False


# --- KPI ----------------------------------------------------------------------------------------

def test_kpi_figures(api, w):
    body = api(w["admin"]).get("/kpi", query_string=world.PERIOD | {"bureau": "all"}).get_json()
    assert [r["count"] for r in body["funnel"]] == [3, 5, 4, 3, 2, 1]
    assert body["matcher"]["from_either"] == 3 and body["period"] == {"from": "2026-04-01", "to": "2026-06-30"}
    own = api(w["coord_chubu"]).get("/kpi", query_string=world.PERIOD).get_json()
    assert own["bureau"] == "chubu" and own["summary"]["needs"] == 2
    owner = api(w["owner_b"]).get("/kpi", query_string=world.PERIOD | {"bureau": "all"}).get_json()
    assert owner["summary"] == {"needs": 1, "proposals": 1, "proposals_per_need": 1.0, "needs_with_proposal": 1,
                                "needs_with_proposal_rate": 1.0, "deal_rate": 0.0}
    _problem(api(w["proposers"]["S1"]).get("/kpi"), 403)
    body = _problem(api(w["admin"]).get("/kpi", query_string={"from": "2026-02-30"}), 400)
    assert "from" in body["errors"]


def test_visibility_of_proposals_and_meetings(api, w, db):
    check_proposers_see_only_their_own_proposals(api, w)
    check_need_owner_sees_forwarded_proposals_only(api, w)
    check_meetings_follow_proposal_visibility(api, w, db)


def test_proposal_errors_and_matcher_off(api, w, db):
    check_create_proposal_errors(api, w)
    check_matches_are_for_the_needs_coordinators(api, w, db)


def test_messages_follow_accept_language(api, cast, client):
    caller = api(cast.proposer)
    ja = _problem(caller.get("/needs/999999"), 404)
    assert ja["title"] != "Not found"  # Japanese by default
    en = _problem(client.get("/api/v1/needs/999999", headers=caller.headers | {"Accept-Language": "en"}), 404)
    assert en["title"] == "Not found"
    en = _problem(client.post("/api/v1/needs", headers=caller.headers | {"Accept-Language": "en-GB,en;q=0.9"},
                              json={}), 403)
    assert en["detail"] == "Your account may not do this."


def test_odd_query_arguments_are_ignored_in_links(api, cast, client):
    caller = api(cast.proposer)
    body = caller.get("/needs", query_string={"_external": "0", "_anchor": "x", "page": "1"}).get_json()
    assert body["links"]["self"].startswith("http://localhost/api/v1/needs")
    login_user = cast.admin
    from ..factories import login

    login(client, login_user)
    assert client.get("/insight/", query_string={"name": "x", "_external": "1"}).status_code == 200
