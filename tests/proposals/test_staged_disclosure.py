"""Staged disclosure: sections and files a proposer marks "after NDA" stay
hidden from the need owner and the coordinators (pages, API, downloads,
receipt file) until the NDA stage is recorded; the receipt covers them all
from the start; the proposer's preview shows exactly the owner's view."""

from __future__ import annotations

import hashlib
import io
import json

from sqlalchemy import select

from oims.models import Attachment, Proposal
from oims.models.base import utcnow

from ..security.world import PNG, api_token_for
from .conftest import proposal_form, proposals_of

SECRET_SOLUTION = "極秘の金型温度制御シーケンスＸ９"
SECRET_TEAM = "博士3名の非公開チーム"


def _propose(cast, need, as_user, db):
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}", content_type="multipart/form-data",
                       data=proposal_form(solution=SECRET_SOLUTION, team=SECRET_TEAM,
                                          after_nda=["solution", "team"], attachments_after_nda="y",
                                          attachments=[(io.BytesIO(PNG), "秘密図面.png")]))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    (proposal,) = proposals_of(db, cast.proposer.organisation_id)
    return proposal


def _forward(db, proposal, stage="shortlisted"):
    proposal.stage = stage
    proposal.forwarded_at = utcnow()
    db.session.commit()


def test_marks_are_saved_and_the_receipt_covers_every_part(cast, need, as_user, db):
    proposal = _propose(cast, need, as_user, db)
    assert proposal.after_nda == ["solution", "team"]
    att = db.session.scalar(select(Attachment).where(Attachment.proposal_id == proposal.id))
    assert att.after_nda is True
    receipt = json.loads(proposal.receipt_content)
    assert receipt["solution"] == SECRET_SOLUTION and receipt["team"] == SECRET_TEAM
    assert receipt["after_nda"] == ["solution", "team"]
    assert receipt["attachments"][0]["after_nda"] is True
    assert hashlib.sha256(proposal.receipt_content.encode()).hexdigest() == proposal.receipt_hash
    # the proposer itself sees everything, marked
    page = as_user(cast.proposer).get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert SECRET_SOLUTION in page and "秘密図面.png" in page and "after-nda-badge" in page


def test_owner_and_coordinator_see_only_public_parts_before_the_nda(cast, need, as_user, db, app):
    proposal = _propose(cast, need, as_user, db)
    _forward(db, proposal)
    att = db.session.scalar(select(Attachment).where(Attachment.proposal_id == proposal.id))
    for user in (cast.owner, cast.coordinator, cast.admin):
        client = as_user(user)
        page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
        assert proposal.summary in page
        assert SECRET_SOLUTION not in page and SECRET_TEAM not in page and "秘密図面.png" not in page
        assert "withheld-part" in page
        assert client.get(f"/proposals/{proposal.id}/files/{att.id}").status_code == 404
        case = client.get(f"/brokerage/case/{proposal.id}").get_data(as_text=True)
        assert SECRET_SOLUTION not in case
        token = api_token_for(db, user)
        data = app.test_client().get(f"/api/v1/proposals/{proposal.id}",
                                     headers={"Authorization": f"Bearer {token}"}).get_json()
        assert data["solution"] == "" and data["team"] == "" and data["withheld"] == ["solution", "team"]
        assert data["summary"] == proposal.summary
        listed = app.test_client().get("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"})
        assert SECRET_SOLUTION not in listed.get_data(as_text=True)
    # the coordinator sees the receipt's hash but cannot download its content yet
    client = as_user(cast.coordinator)
    assert client.get(f"/proposals/{proposal.id}/receipt").status_code == 403
    assert proposal.receipt_hash in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    # e-mails never carry the hidden sections
    from oims.models import OutboxMessage

    assert all(SECRET_SOLUTION not in m.body_text for m in db.session.scalars(select(OutboxMessage)))


def test_everything_shows_once_the_nda_stage_is_recorded(cast, need, as_user, db):
    proposal = _propose(cast, need, as_user, db)
    _forward(db, proposal, stage="met")
    att = db.session.scalar(select(Attachment).where(Attachment.proposal_id == proposal.id))
    client = as_user(cast.owner)
    resp = client.post(f"/brokerage/case/{proposal.id}/outcome", data={"stage": "nda", "on_date": "2026-12-01"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    assert db.session.get(Proposal, proposal.id).stage == "nda"
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert SECRET_SOLUTION in page and SECRET_TEAM in page and "秘密図面.png" in page
    assert client.get(f"/proposals/{proposal.id}/files/{att.id}").status_code == 200
    # and stays disclosed when the case moves on (PoC, ended)
    client.post(f"/brokerage/case/{proposal.id}/outcome", data={"stage": "ended", "note": "終了"})
    assert db.session.get(Proposal, proposal.id).stage == "ended"
    assert SECRET_SOLUTION in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    coord = as_user(cast.coordinator)
    assert coord.get(f"/proposals/{proposal.id}/receipt").status_code == 200


def test_preview_as_owner_shows_exactly_the_owners_view(cast, need, as_user, db):
    proposal = _propose(cast, need, as_user, db)
    _forward(db, proposal)
    client = as_user(cast.proposer)
    preview = client.get(f"/proposals/{proposal.id}/as-owner").get_data(as_text=True)
    assert "as-owner-preview" in preview
    assert SECRET_SOLUTION not in preview and SECRET_TEAM not in preview and "秘密図面.png" not in preview
    assert proposal.summary in preview and proposal.track_record in preview
    assert "Download receipt" not in preview and "受付証明" not in preview.split("as-owner-preview")[0][-200:]
    owner_page = as_user(cast.owner).get(f"/proposals/{proposal.id}").get_data(as_text=True)
    for text in (SECRET_SOLUTION, SECRET_TEAM, "秘密図面.png"):
        assert (text in preview) == (text in owner_page)
    assert as_user(cast.owner).get(f"/proposals/{proposal.id}/as-owner").status_code == 403


def test_unknown_part_is_refused_and_nothing_is_saved(cast, need, as_user, db):
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(after_nda=["title"]))
    assert resp.status_code == 400
    assert proposals_of(db, cast.proposer.organisation_id) == []


def test_edit_changes_the_marks_and_issues_a_new_receipt(cast, need, as_user, db):
    proposal = _propose(cast, need, as_user, db)
    old_hash = proposal.receipt_hash
    att = db.session.scalar(select(Attachment).where(Attachment.proposal_id == proposal.id))
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/{proposal.id}/edit",
                       data=proposal_form(solution=SECRET_SOLUTION, team=SECRET_TEAM, after_nda=["cost"],
                                          action="save"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    db.session.refresh(proposal)
    db.session.refresh(att)
    assert proposal.after_nda == ["cost"] and att.after_nda is False
    assert proposal.receipt_hash != old_hash and json.loads(proposal.receipt_content)["after_nda"] == ["cost"]


def test_api_proposers_mark_sections_too(cast, need, db, app):
    token = api_token_for(db, cast.proposer)
    resp = app.test_client().post("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"},
                                  json={"need_id": need.id, "title": "API提案", "summary": "概要です",
                                        "solution": SECRET_SOLUTION, "after_nda": ["solution"], "submit": True})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["solution"] == SECRET_SOLUTION and resp.get_json()["withheld"] == []
    proposal = db.session.get(Proposal, resp.get_json()["id"])
    assert proposal.after_nda == ["solution"] and json.loads(proposal.receipt_content)["after_nda"] == ["solution"]
    bad = app.test_client().post("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"},
                                 json={"need_id": need.id, "title": "x", "after_nda": ["title"]})
    assert bad.status_code == 422  # the API's answer to a field error (problem+json with the fields)


def test_matcher_reasons_quoting_a_withheld_section_are_dropped(cast, need, factory, db):
    from types import SimpleNamespace

    from oims.policy import visible_reasons

    proposal = factory.proposal(need, proposer=cast.proposer, stage="shortlisted",
                                      after_nda=["solution"])
    parts = ["summary", "solution", "track_record"]
    reasons = [SimpleNamespace(document=0, text="概要"), SimpleNamespace(document=1, text=SECRET_SOLUTION),
               SimpleNamespace(document=2, text="実績")]
    assert [r.text for r in visible_reasons(cast.coordinator, proposal, reasons, parts)] == ["概要", "実績"]
    assert len(visible_reasons(cast.proposer, proposal, reasons, parts)) == 3
    proposal.stage = "nda"
    assert len(visible_reasons(cast.coordinator, proposal, reasons, parts)) == 3
