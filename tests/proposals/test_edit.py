"""Editing: until the deadline, while draft or submitted; never under screening."""

from __future__ import annotations

import re

from .conftest import outbox_to, proposal_form


def test_edit_a_draft_and_submit_it(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="draft", summary="", solution="")
    client = as_user(cast.proposer)
    page = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    assert p.title in page and 'value="CFRP"' in page
    resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(action="draft", solution=""))
    assert resp.status_code == 302
    db.session.refresh(p)
    assert p.stage == "draft" and p.summary.startswith("下部フレーム")
    resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(action="submit", solution=""))
    assert resp.status_code == 400 and "この項目は必須です。" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.stage == "draft"
    resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(action="submit"))
    assert resp.status_code == 302
    db.session.refresh(p)
    assert p.stage == "submitted" and p.receipt_hash
    assert len(outbox_to(db, cast.coordinator.email)) == 1


def test_edit_keeps_answers(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted", answers=["CFRP", "独自の観点"])
    page = as_user(cast.proposer).get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    [cfrp] = re.findall(r'<input[^>]*value="CFRP"[^>]*>', page)
    assert re.search(r"\bchecked\b", cfrp), cfrp  # the offered option stays ticked
    assert "独自の観点" in page  # not an offered option: shown as a free line


def test_no_edits_once_screening_started_or_closed(cast, factory, as_user, db):
    client = as_user(cast.proposer)
    for stage in ("screening", "shortlisted", "declined", "withdrawn"):
        p = factory.proposal(factory.need(owner=cast.owner), cast.proposer, stage=stage)
        resp = client.get(f"/proposals/{p.id}/edit")
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/proposals/{p.id}")
        resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(title="書き換え"))
        assert resp.status_code == 400 and "変更できません" in resp.get_data(as_text=True)
        db.session.refresh(p)
        assert p.title != "書き換え"
        assert f"/proposals/{p.id}/edit" not in client.get(f"/proposals/{p.id}").get_data(as_text=True)


def test_no_edits_after_the_deadline(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    need.deadline = need.deadline.replace(year=need.deadline.year - 1)
    db.session.commit()
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/{p.id}/edit", data=proposal_form(title="締切後の変更"))
    assert resp.status_code == 400 and "締切" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.title != "締切後の変更"
    # A draft can no longer be submitted either.
    draft = factory.proposal(factory.need(owner=cast.owner, deadline_days=-2), cast.proposer,
                             stage="draft")
    assert client.post(f"/proposals/{draft.id}/submit").status_code == 400
    db.session.refresh(draft)
    assert draft.stage == "draft"


def test_only_the_proposing_organisation_edits(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    for user, status in ((cast.coordinator, 403), (cast.admin, 403), (cast.other_proposer, 404), (cast.owner, 404)):
        client = as_user(user)
        assert client.get(f"/proposals/{p.id}/edit").status_code == status
        assert client.post(f"/proposals/{p.id}/edit", data=proposal_form(title="改ざん")).status_code == status
    db.session.refresh(p)
    assert p.title != "改ざん"


def test_over_long_edit_is_refused(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    old_hash = p.receipt_hash
    resp = as_user(cast.proposer).post(f"/proposals/{p.id}/edit", data=proposal_form(team="あ" * 2001))
    assert resp.status_code == 400 and "2000 文字以内" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.team == "技術者5名" and p.receipt_hash == old_hash
