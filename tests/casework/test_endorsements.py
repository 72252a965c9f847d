"""Endorsed capabilities: a coordinator allows a support body to endorse; its
user endorses a capability (note, date, expiry); the badge shows on the
profile, the ranked list and the recommendations; withdrawal and expiry
remove it; others cannot endorse."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from oims.models import AuditLog, Endorsement, Organisation


def _support_body(db, factory, name="都立産業技術研究センター"):
    org = factory.org(kind="support", name=name)
    user = factory.user("proposer", org=org, name="技術支援 一郎")
    return org, user


def test_coordinator_allows_an_endorser_who_then_endorses(db, cast, factory, case, signed_in):
    org, user = _support_body(db, factory)
    assert signed_in(user).get("/endorsements/").status_code == 403  # not allowed yet
    coord = signed_in(cast.coordinator)
    resp = coord.post("/endorsements/endorsers", data={"org_id": org.id, "kind": "kosetsushi"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    assert db.session.get(Organisation, org.id).endorser_kind == "kosetsushi"
    client = signed_in(user)
    target = cast.proposer.organisation
    until = (date.today() + timedelta(days=400)).isoformat()
    resp = client.post("/endorsements/", data={"org_id": target.id, "capability": "5軸精密切削",
                                               "note": "依頼試験で確認", "expires_on": until})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    item = db.session.scalar(select(Endorsement))
    assert (item.org_id, item.endorser_org_id, item.capability) == (target.id, org.id, "5軸精密切削")
    assert item.endorsed_on == date.today() and item.expires_on.isoformat() == until
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "endorsement.created"))
    # the badge: on the profile (seen by the org itself and staff) and in the ranked list
    page = signed_in(cast.proposer).get(f"/orgs/{target.id}").get_data(as_text=True)
    assert "endorsement-badge" in page and "5軸精密切削" in page and "依頼試験で確認" in page
    ranked = coord.get(f"/brokerage/need/{case.need.id}").get_data(as_text=True)
    assert "endorsement-badge" in ranked and "5軸精密切削" in ranked


def test_withdrawn_and_expired_endorsements_disappear(db, cast, factory, signed_in):
    org, user = _support_body(db, factory)
    org.endorser_kind = "chamber"
    db.session.commit()
    target = cast.proposer.organisation
    client = signed_in(user)
    client.post("/endorsements/", data={"org_id": target.id, "capability": "表面処理"})
    item = db.session.scalar(select(Endorsement))
    assert item.expires_on > date.today() + timedelta(days=700)  # two years by default
    assert client.post(f"/endorsements/{item.id}/withdraw").status_code == 302
    assert db.session.get(Endorsement, item.id).withdrawn_at is not None
    assert "表面処理" not in signed_in(cast.proposer).get(f"/orgs/{target.id}").get_data(as_text=True)
    # an expired one does not show either
    db.session.add(Endorsement(org_id=target.id, capability="古い推薦", endorser_org_id=org.id,
                               endorser_user_id=user.id, endorsed_on=date.today() - timedelta(days=800),
                               expires_on=date.today() - timedelta(days=1)))
    db.session.commit()
    assert "古い推薦" not in signed_in(cast.coordinator).get(f"/orgs/{target.id}").get_data(as_text=True)


def test_bad_input_and_outsiders_are_refused(db, cast, factory, signed_in):
    org, user = _support_body(db, factory)
    org.endorser_kind = "bank"
    db.session.commit()
    client = signed_in(user)
    resp = client.post("/endorsements/", data={"org_id": cast.proposer.organisation_id, "capability": "",
                                               "expires_on": "2000-01-01", "note": "メモ"})
    assert resp.status_code == 400 and "メモ" in resp.get_data(as_text=True)
    # the need owner's large firm and the endorser itself cannot be endorsed
    assert client.post("/endorsements/", data={"org_id": cast.owner.organisation_id,
                                               "capability": "x"}).status_code == 403
    assert client.post("/endorsements/", data={"org_id": org.id, "capability": "x"}).status_code == 400
    # a plain proposer cannot endorse; the other bureau's coordinator cannot manage Kanto's endorsers
    assert signed_in(cast.proposer).post("/endorsements/", data={"org_id": org.id, "capability": "x"}).status_code == 403
    assert signed_in(cast.other_coordinator).post(f"/endorsements/endorsers/{org.id}/remove").status_code == 404
    assert db.session.scalar(select(Endorsement)) is None
    assert db.session.get(Organisation, org.id).endorser_kind == "bank"
