"""Who may see which proposal, from each role's side, and the owner-view audit."""

from __future__ import annotations

from sqlalchemy import select

from oims.models import AuditLog

from .conftest import audits

PAGES = ("/proposals/{id}", "/proposals/{id}/receipt", "/proposals/{id}/edit")


def test_proposer_never_sees_another_orgs_proposal(cast, need, factory, as_user):
    theirs = factory.proposal(need, cast.other_proposer, stage="submitted", title="他社の秘密の提案")
    client = as_user(cast.proposer)
    for page in PAGES:
        assert client.get(page.format(id=theirs.id)).status_code == 404
    for action in ("withdraw", "submit", "screen", "decline"):
        assert client.post(f"/proposals/{theirs.id}/{action}").status_code == 404
    assert "他社の秘密の提案" not in client.get("/proposals/mine").get_data(as_text=True)
    assert "他社の秘密の提案" not in client.get("/dashboard").get_data(as_text=True)
    assert client.get(f"/proposals/need/{need.id}").status_code == 403


def test_colleagues_see_their_organisations_proposals(cast, need, factory, as_user):
    colleague = factory.user("proposer", org=cast.proposer.organisation)
    p = factory.proposal(need, cast.proposer, stage="draft", title="同僚の下書き")
    client = as_user(colleague)
    assert client.get(f"/proposals/{p.id}").status_code == 200
    assert "同僚の下書き" in client.get("/proposals/mine").get_data(as_text=True)


def test_owner_sees_only_forwarded_proposals(cast, factory, as_user, db):
    cases = {"draft": False, "submitted": False, "screening": False, "declined": False, "withdrawn": False,
             "shortlisted": True, "meeting_requested": True, "met": True}
    proposals = {}
    for stage in cases:
        need = factory.need(owner=cast.owner)
        proposals[stage] = factory.proposal(need, cast.proposer, stage=stage, title=f"提案-{stage}")
    client = as_user(cast.owner)
    for stage, visible in cases.items():
        p = proposals[stage]
        assert client.get(f"/proposals/{p.id}").status_code == (200 if visible else 404), stage
        listing = client.get(f"/proposals/need/{p.need_id}").get_data(as_text=True)
        assert (f"提案-{stage}" in listing) is visible, stage
    views = audits(db, "proposal.viewed_by_owner")
    assert sorted(a.object_id for a in views) == sorted(proposals[s].id for s, v in cases.items() if v)
    assert {a.actor_id for a in views} == {cast.owner.id}


def test_owner_view_is_audited_every_time(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="shortlisted")
    client = as_user(cast.owner)
    for _ in range(3):
        assert client.get(f"/proposals/{p.id}").status_code == 200
    entries = audits(db, "proposal.viewed_by_owner")
    assert len(entries) == 3 and all(e.actor_id == cast.owner.id and e.object_type == "proposal" for e in entries)
    # Nobody else's view is recorded as an owner view.
    as_user(cast.coordinator).get(f"/proposals/{p.id}")
    as_user(cast.proposer).get(f"/proposals/{p.id}")
    assert len(audits(db, "proposal.viewed_by_owner")) == 3


def test_owner_of_another_need_sees_nothing(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="shortlisted")
    stranger = factory.user("need_owner")
    client = as_user(stranger)
    assert client.get(f"/proposals/{p.id}").status_code == 404
    assert client.get(f"/proposals/need/{need.id}").status_code == 403


def test_owner_may_not_download_the_receipt(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="shortlisted")
    assert as_user(cast.owner).get(f"/proposals/{p.id}/receipt").status_code == 403


def test_coordinators_see_their_bureau_only(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="submitted", title="関東の提案")
    draft = factory.proposal(need, cast.other_proposer, stage="draft", title="未提出の下書き")
    client = as_user(cast.coordinator)
    assert client.get(f"/proposals/{p.id}").status_code == 200
    assert client.get(f"/proposals/{draft.id}").status_code == 404  # drafts are the proposer's own
    listing = client.get(f"/proposals/need/{need.id}").get_data(as_text=True)
    assert "関東の提案" in listing and "未提出の下書き" not in listing
    client = as_user(cast.other_coordinator)
    assert client.get(f"/proposals/{p.id}").status_code == 404
    assert client.get(f"/proposals/need/{need.id}").status_code == 403  # a published need, not theirs


def test_coordinator_of_another_bureau_cannot_see_an_unpublished_need(cast, factory, as_user):
    need = factory.need(owner=cast.owner, status="review")
    assert as_user(cast.other_coordinator).get(f"/proposals/need/{need.id}").status_code == 404


def test_admin_sees_everything(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="draft")
    client = as_user(cast.admin)
    assert client.get(f"/proposals/{p.id}").status_code == 200
    assert client.get(f"/proposals/need/{need.id}").status_code == 200


def test_unknown_proposal_is_404_and_anonymous_is_sent_to_login(cast, need, factory, client, as_user):
    p = factory.proposal(need, cast.proposer)
    resp = client.get(f"/proposals/{p.id}")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
    assert as_user(cast.proposer).get("/proposals/999999").status_code == 404


def test_my_proposals_lists_every_stage_of_the_org(cast, factory, as_user):
    stages = ["draft", "submitted", "screening", "shortlisted", "declined", "withdrawn"]
    for i, stage in enumerate(stages):
        need = factory.need(owner=cast.owner, title=f"ニーズ{i}")
        factory.proposal(need, cast.proposer, stage=stage, title=f"提案-{stage}")
    client = as_user(cast.proposer)
    html = client.get("/proposals/mine").get_data(as_text=True)
    for label in ("下書き", "提出済み", "審査中", "推薦済み（ニーズ企業に送付）", "見送り", "取り下げ"):
        assert label in html
    filtered = client.get("/proposals/mine?stage=declined").get_data(as_text=True)
    assert "提案-declined" in filtered and "提案-submitted" not in filtered
    for role in ("coordinator", "need_owner"):
        user = cast.coordinator if role == "coordinator" else cast.owner
        assert as_user(user).get("/proposals/mine").status_code == 403


def test_dashboard_panels(cast, need, factory, as_user):
    factory.proposal(need, cast.proposer, stage="submitted", title="審査待ちの提案")
    html = as_user(cast.proposer).get("/dashboard").get_data(as_text=True)
    assert "審査待ちの提案" in html and "提出済み: 1" in html
    html = as_user(cast.coordinator).get("/dashboard").get_data(as_text=True)
    assert "審査待ちの新しい提案" in html and "審査待ちの提案" in html
    html = as_user(cast.other_coordinator).get("/dashboard").get_data(as_text=True)
    assert "審査待ちの新しい提案" in html and "審査待ちの提案" not in html
    html = as_user(cast.owner).get("/dashboard").get_data(as_text=True)
    assert "審査待ちの提案" not in html


def test_english_detail_page(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    client = as_user(cast.proposer)
    client.post("/lang/en")
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "Proposed solution" in html and "Submitted" in html and "Withdraw this proposal" in html
    assert not db.session.scalars(select(AuditLog).where(AuditLog.action == "proposal.viewed_by_owner")).all()
