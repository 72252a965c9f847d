"""The coordinator's candidate list is paginated (ranked over all proposals, shown 50 at a time)."""

from __future__ import annotations

from sqlalchemy import insert

from oims.models import Organisation, Proposal
from oims.models.base import utcnow

from ..factories import login
from ..html import attrs


def test_candidates_are_paginated(client, db, factory):
    coord = factory.user("coordinator", org=factory.org(kind="support", prefecture="13"))
    need = factory.need()
    now = utcnow()
    db.session.execute(insert(Organisation), [
        {"name": f"候補{i}", "kind": "sme", "prefecture": "13", "bureau": "kanto"} for i in range(60)])
    org_ids = [o.id for o in db.session.scalars(db.select(Organisation).where(Organisation.name.like("候補%")))]
    db.session.execute(insert(Proposal), [
        {"need_id": need.id, "org_id": oid, "created_by_id": coord.id, "title": f"提案{i:02d}", "summary": "s",
         "solution": "s", "stage": "submitted", "submitted_at": now, "answers": [], "receipt_hash": "x" * 64}
        for i, oid in enumerate(org_ids)])
    db.session.commit()
    login(client, coord)
    first = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
    second = client.get(f"/brokerage/need/{need.id}?page=2").get_data(as_text=True)
    ids_1 = [row["data-proposal-id"] for row in attrs(first, "ranked-proposal")]
    ids_2 = [row["data-proposal-id"] for row in attrs(second, "ranked-proposal")]
    assert (len(ids_1), len(ids_2)) == (50, 10)
    assert not set(ids_1) & set(ids_2)
    assert f"/brokerage/need/{need.id}?page=2" in first
    assert "候補" in first  # the organisation's name is shown with each proposal
