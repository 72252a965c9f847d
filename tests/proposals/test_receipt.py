"""The timestamped receipt: what it certifies, that its hash can be
recomputed from the downloaded file, and how edits and files change it."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

from oims.models.base import utcnow
from oims.proposals import receipts

from .conftest import audits, proposal_form, proposals_of

# The smallest valid PNG (1x1 pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


def _submit(client, need, **overrides):
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(**overrides),
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]


def test_receipt_certifies_the_submitted_content(cast, need, as_user, db):
    before = utcnow().replace(microsecond=0)
    client = as_user(cast.proposer)
    _submit(client, need, answers=["CFRP"])
    [p] = proposals_of(db, cast.proposer.organisation_id)
    data = json.loads(p.receipt_content)
    assert data["need_id"] == need.id and data["org_id"] == cast.proposer.organisation_id
    assert data["proposal_id"] == p.id and data["format"] == receipts.RECEIPT_FORMAT
    for field in ("title", "summary", "solution", "track_record", "team", "schedule", "cost"):
        assert data[field] == getattr(p, field)
    assert data["answers"] == ["CFRP", "量産体制"] and data["attachments"] == []
    stamp = datetime.strptime(data["submitted_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= utcnow() + timedelta(seconds=1)
    # Recompute: canonical JSON of the content, then SHA-256.
    assert receipts.canonical_json(data) == p.receipt_content
    assert hashlib.sha256(p.receipt_content.encode("utf-8")).hexdigest() == p.receipt_hash
    assert receipts.verify_receipt(p.receipt_content, p.receipt_hash)
    assert not receipts.verify_receipt(p.receipt_content.replace("真空", "真 空"), p.receipt_hash)


def test_receipt_is_shown_and_downloadable(cast, need, factory, as_user, db):
    client = as_user(cast.proposer)
    _submit(client, need)
    [p] = proposals_of(db, cast.proposer.organisation_id)
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert p.receipt_hash in html and f"/proposals/{p.id}/receipt" in html
    resp = client.get(f"/proposals/{p.id}/receipt")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"] and ".json" in resp.headers["Content-Disposition"]
    # sha256sum of the downloaded file equals the hash on the page
    assert hashlib.sha256(resp.data).hexdigest() == p.receipt_hash
    text = client.get(f"/proposals/{p.id}/receipt?format=txt")
    assert text.mimetype == "text/plain" and p.receipt_hash in text.get_data(as_text=True)
    # The coordinator may check it too; a draft has none.
    assert as_user(cast.coordinator).get(f"/proposals/{p.id}/receipt").data == resp.data
    draft = factory.proposal(factory.need(owner=cast.owner), cast.proposer, stage="draft")
    assert as_user(cast.proposer).get(f"/proposals/{draft.id}/receipt").status_code == 404


def test_editing_a_submitted_proposal_issues_a_new_receipt(cast, need, as_user, db):
    client = as_user(cast.proposer)
    _submit(client, need)
    [p] = proposals_of(db, cast.proposer.organisation_id)
    first_hash, first_submitted = p.receipt_hash, p.submitted_at
    resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(solution="改訂した解決策", action="save"))
    assert resp.status_code == 302
    db.session.refresh(p)
    assert p.stage == "submitted" and p.solution == "改訂した解決策"
    assert p.receipt_hash != first_hash and json.loads(p.receipt_content)["solution"] == "改訂した解決策"
    assert receipts.verify_receipt(p.receipt_content, p.receipt_hash)
    assert p.submitted_at == first_submitted  # the first submission stays the clock
    [entry] = audits(db, "proposal.edited")
    assert entry.detail == {"previous_receipt_hash": first_hash, "receipt_hash": p.receipt_hash}


def test_attachment_hashes_are_in_the_receipt(cast, need, as_user, db):
    client = as_user(cast.proposer)
    _submit(client, need, attachments=[(io.BytesIO(PNG), "構造図.png")])
    [p] = proposals_of(db, cast.proposer.organisation_id)
    [att] = json.loads(p.receipt_content)["attachments"]
    assert att == {"filename": "構造図.png", "sha256": hashlib.sha256(PNG).hexdigest(), "size": len(PNG)}
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "構造図.png" in page
    att_id = int(page.split(f"/proposals/{p.id}/files/")[1].split('"')[0])
    download = client.get(f"/proposals/{p.id}/files/{att_id}")
    assert download.status_code == 200 and download.data == PNG
    # Others may not fetch it, through this route or by guessing.
    assert as_user(cast.other_proposer).get(f"/proposals/{p.id}/files/{att_id}").status_code == 404


def test_wrong_file_type_is_refused_and_nothing_saved(cast, need, as_user, db):
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}", content_type="multipart/form-data",
                       data=proposal_form(attachments=[(io.BytesIO(b"#!/bin/sh\necho hi\n"), "run.pdf")]))
    assert resp.status_code == 400
    assert "添付できるのはPDF・PNG・JPEGファイルのみです。「run」" in resp.get_data(as_text=True)
    assert proposals_of(db, cast.proposer.organisation_id) == []
