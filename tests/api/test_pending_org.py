"""The API refuses proposals of an organisation still waiting for approval, with a clear message."""

from __future__ import annotations

from sqlalchemy import func, select

from oims.models import Proposal


def test_pending_org_cannot_propose_through_the_api(client, db, cast, factory, token_for):
    need = factory.need()
    proposer = cast.proposer
    proposer.organisation.status = "pending"
    db.session.commit()
    headers = {"Authorization": f"Bearer {token_for(proposer)}"}
    body = {"need_id": need.id, "title": "提案", "summary": "概要", "submit": False}
    resp = client.post("/api/v1/proposals", headers=headers, json=body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "コーディネーターの確認待ち" in str(resp.get_json())
    assert db.session.scalar(select(func.count(Proposal.id))) == 0
    proposer.organisation.status = "active"
    db.session.commit()
    assert client.post("/api/v1/proposals", headers=headers, json=body).status_code == 201
