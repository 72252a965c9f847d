"""Issue 13, notifications: the decline notice carries the reason and the note;
invitations show as a dashboard panel with a propose button; every edit of a
submitted proposal is in its history with its own receipt, and earlier
receipts stay downloadable (through the HTTP client and the real database)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from oims.models import Notification, OutboxMessage, Proposal, ProposalReceipt

from ..factories import login, logout
from .conftest import proposal_form


def test_decline_notification_carries_reason_and_note(client, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    alice = cast.proposer
    need = factory.need(owner=owner)
    prop = factory.proposal(need, alice)
    login(client, coord)
    r = client.post(f"/proposals/{prop.id}/decline",
                    data={"reason": "schedule", "note": "来年度の計画に合いません。"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    logout(client)
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).stage == "declined"
    note = db.session.scalars(select(Notification).where(Notification.user_id == alice.id,
                                                         Notification.kind == "proposal_stage")
                              .order_by(Notification.id.desc())).first()
    assert "見送り" in note.text and "スケジュールが合わない" in note.text and "来年度の計画に合いません。" in note.text
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == alice.email)
                              .order_by(OutboxMessage.id.desc())).first()
    assert "スケジュールが合わない" in mail.body_text and "来年度の計画に合いません。" in mail.body_text
    # The proposer reads it on the notifications page too.
    login(client, alice)
    html = client.get("/notifications").get_data(as_text=True)
    assert "スケジュールが合わない" in html and "来年度の計画に合いません。" in html


def test_invitation_is_a_dashboard_panel_with_a_propose_button(client, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    carol = cast.proposer
    other = cast.other_proposer
    need = factory.need(owner=owner, anonymous=True)
    login(client, coord)
    r = client.post(f"/brokerage/need/{need.id}/invite",
                    data={"org_id": carol.organisation_id, "message": "貴社の成形技術に期待しています。"})
    assert r.status_code == 302
    logout(client)

    login(client, carol)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "panel-invitations" in html and need.title in html
    assert f"/proposals/new?need_id={need.id}" in html
    assert "貴社の成形技術に期待しています。" in html
    assert owner.organisation.name not in html and need.alias in html   # anonymity kept
    logout(client)
    # Another proposer organisation sees no such panel.
    login(client, other)
    assert "panel-invitations" not in client.get("/dashboard").get_data(as_text=True)
    logout(client)
    # Once the invited organisation has proposed, the panel links its proposal instead.
    prop = factory.proposal(need, carol)
    login(client, carol)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/proposals/{prop.id}" in html and f"/proposals/new?need_id={need.id}" not in html


def test_edits_are_in_the_history_and_earlier_receipts_stay_downloadable(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="draft")
    client = as_user(cast.proposer)
    assert client.post(f"/proposals/{p.id}/edit", data=proposal_form(action="submit")).status_code == 302
    db.session.refresh(p)
    first_hash = p.receipt_hash
    assert p.stage == "submitted" and first_hash
    r = client.post(f"/proposals/{p.id}/edit", data=proposal_form(
        action="submit", summary="改訂版：量産ラインの立ち上げ期間を短縮します。"))
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    db.session.expire_all()
    prop = db.session.get(Proposal, p.id)
    assert prop.receipt_hash != first_hash
    kept = db.session.scalars(select(ProposalReceipt).where(ProposalReceipt.proposal_id == prop.id)
                              .order_by(ProposalReceipt.id)).all()
    assert [k.receipt_hash for k in kept] == [first_hash, prop.receipt_hash]

    html = client.get(f"/proposals/{prop.id}").get_data(as_text=True)
    assert "history-edit" in html and "編集：新しい受付証明" in html
    assert first_hash[:12] in html and prop.receipt_hash[:12] in html
    # The earlier receipt downloads byte for byte; its SHA-256 is the old hash.
    old = client.get(f"/proposals/{prop.id}/receipt?receipt={kept[0].id}")
    assert old.status_code == 200 and hashlib.sha256(old.data).hexdigest() == first_hash
    assert "改訂版" not in json.loads(old.data)["summary"]
    new = client.get(f"/proposals/{prop.id}/receipt?receipt={kept[1].id}")
    assert hashlib.sha256(new.data).hexdigest() == prop.receipt_hash
    assert json.loads(new.data)["summary"].startswith("改訂版")
    txt = client.get(f"/proposals/{prop.id}/receipt?receipt={kept[0].id}&format=txt").get_data(as_text=True)
    assert first_hash in txt
    # Another organisation's proposal and receipt: not reachable through this proposal or at all.
    q = factory.proposal(factory.need(owner=cast.owner), cast.other_proposer, stage="draft")
    other = as_user(cast.other_proposer)
    assert other.post(f"/proposals/{q.id}/edit", data=proposal_form(action="submit")).status_code == 302
    theirs = db.session.scalar(select(ProposalReceipt).where(ProposalReceipt.proposal_id == q.id))
    assert other.get(f"/proposals/{prop.id}/receipt?receipt={kept[0].id}").status_code == 404  # not its proposal
    mine = as_user(cast.proposer)
    assert mine.get(f"/proposals/{prop.id}/receipt?receipt={theirs.id}").status_code == 404
