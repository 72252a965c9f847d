"""ETag / If-Match on the API: a stale PATCH is refused with 412 and changes
nothing; a PATCH without If-Match is 428; a lost stage race is 409; 405s
name the allowed methods."""

from __future__ import annotations

from oims.models import Need, Proposal


def _call(client, method, caller, url, json=None, extra=None):
    return client.open("/api/v1" + url, method=method.upper(), json=json,
                       headers={**caller.headers, **(extra or {})})


def test_patch_needs_the_current_etag(api, client, db, cast, factory):
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    a, b = api(owner), api(owner)
    r = a.get(f"/needs/{need.id}")
    etag = r.headers["ETag"]
    assert r.status_code == 200 and etag.strip('"') == f"need-{need.id}-v{need.row_version}"
    assert _call(client, "get", a, f"/needs/{need.id}", extra={"If-None-Match": etag}).status_code == 304
    # Without If-Match: 428, nothing changed.
    r = a.patch(f"/needs/{need.id}", json={"title": "無条件"})
    assert r.status_code == 428 and r.mimetype == "application/problem+json"
    # First writer with the current ETag wins and gets the new ETag.
    r = _call(client, "patch", a, f"/needs/{need.id}", json={"title": "Aの題名"}, extra={"If-Match": etag})
    assert r.status_code == 200, r.get_json()
    assert r.headers["ETag"] != etag and r.get_json()["title"] == "Aの題名"
    # Second writer with the old ETag: 412 problem+json, nothing changed.
    r = _call(client, "patch", b, f"/needs/{need.id}", json={"title": "Bの題名"}, extra={"If-Match": etag})
    assert r.status_code == 412 and r.mimetype == "application/problem+json"
    assert "GET it again" in r.get_json()["detail"] or "取得し直" in r.get_json()["detail"]
    db.session.expire_all()
    assert db.session.get(Need, need.id).title == "Aの題名"
    # Re-applied on the current version it goes through.
    fresh = b.get(f"/needs/{need.id}").headers["ETag"]
    r = _call(client, "patch", b, f"/needs/{need.id}", json={"title": "Bの題名"}, extra={"If-Match": fresh})
    assert r.status_code == 200 and r.get_json()["title"] == "Bの題名"


def test_withdraw_with_stale_etag_is_refused(api, client, db, cast, factory):
    owner = cast.owner
    proposer = cast.proposer
    need = factory.need(owner=owner)
    prop = factory.proposal(need, proposer, stage="submitted")
    p = api(proposer)
    etag = p.get(f"/proposals/{prop.id}").headers["ETag"]
    prop.stage = "screening"
    db.session.commit()
    r = _call(client, "post", p, f"/proposals/{prop.id}/withdraw", json={}, extra={"If-Match": etag})
    assert r.status_code == 412
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "screening"


def test_lost_stage_race_is_409_in_the_api(api, db, cast, factory, monkeypatch):
    """The API maps StaleState (the conditional update found the row changed) to 409."""
    from oims.core.exceptions import StaleState
    from oims.proposals import workflow

    owner = cast.owner
    proposer = cast.proposer
    need = factory.need(owner=owner)
    prop = factory.proposal(need, proposer, stage="submitted")

    def lost(*args, **kwargs):
        raise StaleState("Someone else changed this proposal in the meantime", "shortlisted")

    monkeypatch.setattr(workflow, "claim_state", lost)
    r = api(proposer).post(f"/proposals/{prop.id}/withdraw", json={})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "submitted"


def test_405_names_the_allowed_methods(api, client, cast, factory):
    owner = cast.owner
    need = factory.need(owner=owner)
    r = api(owner).post(f"/needs/{need.id}")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) >= {"GET", "PATCH"}
    assert r.mimetype == "application/problem+json"
    r = client.put("/needs/")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
