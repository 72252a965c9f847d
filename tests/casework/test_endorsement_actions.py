"""Endorsement actions through the one form-action runner (HTTP, real DB): a
refused withdrawal goes back where it came from with its message; another
bureau's coordinator cannot make an organisation an endorser (404, nothing
changed)."""

from __future__ import annotations

from sqlalchemy import select

from oims.models import Endorsement, Organisation

from ..factories import login


def _client(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def test_a_refused_withdrawal_goes_back_with_its_message(app, db, cast, factory):
    endorser_org = factory.org(kind="support", name="県立工業技術センター")
    endorser_org.endorser_kind = "kosetsushi"
    endorser = factory.user("proposer", org=endorser_org)
    target = cast.proposer.organisation
    db.session.commit()
    client = _client(app, endorser)
    assert client.post("/endorsements/", data={"org_id": target.id, "capability": "精密研削"}).status_code == 302
    item = db.session.scalar(select(Endorsement))
    first = client.post(f"/endorsements/{item.id}/withdraw")
    assert first.status_code == 302 and first.headers["Location"].endswith("/endorsements/")
    withdrawn_at = db.session.get(Endorsement, item.id).withdrawn_at
    assert withdrawn_at is not None
    with client.session_transaction() as sess:
        sess.pop("_flashes", None)  # the success message of the first withdrawal

    again = client.post(f"/endorsements/{item.id}/withdraw", headers={"Referer": f"http://localhost/orgs/{target.id}"})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orgs/{target.id}")
    assert _flashes(client) == [("warning", "この推薦は既に取り下げられています。")]
    db.session.expire_all()
    assert db.session.get(Endorsement, item.id).withdrawn_at == withdrawn_at


def test_another_bureaus_coordinator_cannot_make_an_endorser(app, db, cast, factory):
    kanto_body = factory.org(kind="support", name="都立産業支援センター")  # prefecture 13: Kanto
    kinki_coordinator = cast.other_coordinator
    db.session.commit()
    resp = _client(app, kinki_coordinator).post("/endorsements/endorsers",
                                                 data={"org_id": kanto_body.id, "kind": "kosetsushi"})
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(Organisation, kanto_body.id).endorser_kind in ("", None)
