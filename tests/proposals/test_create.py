"""Creating proposals: who may, to which needs, the one-active-proposal rule,
bad input, and the notifications a submission sends."""

from __future__ import annotations

from sqlalchemy import func, select

from oims.core.timeutil import today_local
from oims.models import Need, Notification, Proposal, ProposalEvent
from oims.proposals import lookups, services

from .conftest import audits, outbox_to, proposal_form, proposals_of


def test_new_page_shows_need_and_answer_options(cast, need, as_user):
    client = as_user(cast.proposer)
    resp = client.get(f"/proposals/new?need_id={need.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert need.title in html
    assert 'value="CFRP"' in html  # the need's keywords are offered as checkboxes
    assert "炭素繊維強化樹脂の成形技術と量産実績を持つ企業・大学。" in html  # ... and what it seeks


def test_submit_creates_submitted_proposal_with_receipt_and_event(cast, need, as_user, db):
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}",
                       data=proposal_form(answers=["CFRP", "軽量化"], answered_other="量産体制\n\n試作評価"))
    assert resp.status_code == 302
    [p] = proposals_of(db, cast.proposer.organisation_id)
    assert resp.headers["Location"].endswith(f"/proposals/{p.id}")
    assert p.stage == "submitted" and p.submitted_at is not None
    assert p.answers == ["CFRP", "軽量化", "量産体制", "試作評価"]
    assert len(p.receipt_hash) == 64 and p.receipt_content
    assert [(e.from_stage, e.to_stage) for e in p.events] == [("draft", "submitted")]
    assert audits(db, "proposal.submitted")[0].object_id == p.id


def test_save_as_draft_needs_only_a_title(cast, need, as_user, db):
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}",
                       data=proposal_form(action="draft", summary="", solution=""))
    assert resp.status_code == 302
    [p] = proposals_of(db, cast.proposer.organisation_id)
    assert p.stage == "draft" and p.submitted_at is None and p.receipt_hash == ""
    assert outbox_to(db, cast.coordinator.email) == []  # nobody is told about drafts
    # ... and submitting it later from its page checks completeness
    resp = client.post(f"/proposals/{p.id}/submit")
    assert resp.status_code == 400
    assert "必須" in resp.get_data(as_text=True) or "required" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.stage == "draft"


def test_submitting_a_draft_from_its_page(cast, need, factory, as_user, db):
    p = factory.proposal(need, cast.proposer, stage="draft")
    client = as_user(cast.proposer)
    assert client.post(f"/proposals/{p.id}/submit").status_code == 302
    db.session.refresh(p)
    assert p.stage == "submitted" and p.receipt_hash


def test_submission_tells_coordinators_of_the_bureau_only(cast, need, as_user, db):
    client = as_user(cast.proposer)
    client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    [p] = proposals_of(db, cast.proposer.organisation_id)
    [mail] = outbox_to(db, cast.coordinator.email)
    assert p.title in mail.body_text and cast.proposer.organisation.name in mail.body_text
    assert p.receipt_hash in mail.body_text
    assert outbox_to(db, cast.other_coordinator.email) == []
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == cast.coordinator.id, Notification.kind == "proposal_submitted")) == 1
    # The proposer is told too (stage change), with the receipt hash.
    [own] = outbox_to(db, cast.proposer.email)
    assert p.receipt_hash in own.body_text


def test_only_proposers_may_propose(cast, need, as_user, db):
    for user in (cast.owner, cast.coordinator, cast.admin):
        client = as_user(user)
        assert client.get(f"/proposals/new?need_id={need.id}").status_code == 403
        assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 403
    assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_proposer_account_of_a_large_company_may_not_propose(need, factory, as_user, db):
    large = factory.org(kind="large")
    user = factory.user("proposer", org=large)
    client = as_user(user)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 403
    assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_anonymous_visitor_is_sent_to_login(need, client):
    resp = client.get(f"/proposals/new?need_id={need.id}")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_unpublished_needs_are_not_found(cast, factory, as_user, db):
    client = as_user(cast.proposer)
    for status in ("draft", "review", "returned", "withdrawn"):
        need = factory.need(owner=cast.owner, status=status)
        assert client.get(f"/proposals/new?need_id={need.id}").status_code == 404
        assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 404
    assert client.get("/proposals/new").status_code == 404
    assert client.get("/proposals/new?need_id=999999").status_code == 404
    assert proposals_of(db, cast.proposer.organisation_id) == []


def test_expired_deadline_is_refused_with_a_message(cast, factory, as_user, db):
    need = factory.need(owner=cast.owner, deadline_days=-1)
    client = as_user(cast.proposer)
    page = client.get(f"/proposals/new?need_id={need.id}").get_data(as_text=True)
    assert "受け付けていません" in page  # "no longer accepts proposals"
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    assert resp.status_code == 400
    assert "締切" in resp.get_data(as_text=True) and need.deadline.isoformat() in resp.get_data(as_text=True)
    assert proposals_of(db, cast.proposer.organisation_id) == []


def test_deadline_day_itself_still_accepts(cast, factory, as_user, db):
    need = factory.need(owner=cast.owner, deadline_days=0)
    need.deadline = today_local()
    db.session.commit()
    client = as_user(cast.proposer)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
    [p] = proposals_of(db, cast.proposer.organisation_id)
    assert (p.need_id, p.stage) == (need.id, "submitted") and p.receipt_hash


def test_closed_need_is_refused(cast, factory, as_user, db):
    need = factory.need(owner=cast.owner, status="closed")
    factory.proposal(need, cast.proposer, stage="submitted")  # so the proposer may see it
    client = as_user(cast.other_proposer)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 404
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    assert resp.status_code == 400
    assert len(proposals_of(db, cast.proposer.organisation_id)) == 1


LIMITS = {"title": 200, "summary": 2000, "solution": 10000, "track_record": 5000, "team": 2000,
          "schedule": 300, "cost": 300}


def test_over_long_fields_are_refused(cast, need, as_user, db):
    client = as_user(cast.proposer)
    for field, limit in LIMITS.items():
        resp = client.post(f"/proposals/new?need_id={need.id}",
                           data=proposal_form(**{field: "あ" * (limit + 1)}))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400, field
        assert f"{limit} 文字以内" in html and f"現在 {limit + 1} 文字" in html, field
        assert "あ" * (limit + 1) in html  # input kept
    # exactly at the limit is fine
    resp = client.post(f"/proposals/new?need_id={need.id}",
                       data=proposal_form(**{f: "い" * n for f, n in LIMITS.items()}))
    assert resp.status_code == 302
    [p] = proposals_of(db, cast.proposer.organisation_id)
    assert len(p.solution) == 10000


def test_missing_required_fields_are_refused_on_submission(cast, need, as_user, db):
    client = as_user(cast.proposer)
    for field in ("title", "summary", "solution"):
        resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(**{field: "  "}))
        assert resp.status_code == 400
        assert "この項目は必須です。" in resp.get_data(as_text=True)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(title="", action="draft"))
    assert resp.status_code == 400
    assert proposals_of(db, cast.proposer.organisation_id) == []
    assert outbox_to(db, cast.coordinator.email) == []


def test_too_many_answer_lines_are_refused(cast, need, as_user, db):
    client = as_user(cast.proposer)
    lines = "\n".join(f"項目{i}" for i in range(31))
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(answered_other=lines))
    assert resp.status_code == 400
    assert proposals_of(db, cast.proposer.organisation_id) == []


def test_unknown_checkbox_values_are_not_stored_as_ticked(cast, need, as_user, db):
    client = as_user(cast.proposer)
    client.post(f"/proposals/new?need_id={need.id}",
                data=proposal_form(answers=["CFRP", "捏造された項目"], answered_other=""))
    [p] = proposals_of(db, cast.proposer.organisation_id)
    assert p.answers == ["CFRP"]


def test_english_pages_and_messages(cast, need, as_user, db):
    client = as_user(cast.proposer)
    client.post("/lang/en")
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(title=""))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "This field is required." in html and "New proposal" in html


# --- one active proposal per organisation per need ---------------------------------

def test_second_active_proposal_is_refused(cast, need, as_user, db):
    client = as_user(cast.proposer)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
    [first] = proposals_of(db, cast.proposer.organisation_id)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(title="二つ目"))
    assert resp.status_code == 400
    assert "既に" in resp.get_data(as_text=True)
    assert f"/proposals/{first.id}" in resp.get_data(as_text=True)  # a link to the existing one
    assert len(proposals_of(db, cast.proposer.organisation_id)) == 1
    # The new page itself sends the proposer to the existing proposal.
    resp = client.get(f"/proposals/new?need_id={need.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/proposals/{first.id}")


def test_another_member_of_the_same_org_is_refused_too(cast, need, factory, as_user, db):
    colleague = factory.user("proposer", org=cast.proposer.organisation)
    factory.proposal(need, cast.proposer, stage="draft")
    client = as_user(colleague)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 400
    assert len(proposals_of(db, cast.proposer.organisation_id)) == 1


def test_other_organisations_may_propose_to_the_same_need(cast, need, factory, as_user, db):
    factory.proposal(need, cast.proposer)
    client = as_user(cast.other_proposer)
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
    [theirs] = proposals_of(db, cast.other_proposer.organisation_id)
    assert theirs.need_id == need.id and theirs.stage == "submitted"
    assert len(proposals_of(db, cast.proposer.organisation_id)) == 1


def test_race_is_caught_by_the_unique_index(cast, need, factory, as_user, db, monkeypatch):
    factory.proposal(need, cast.proposer, stage="submitted")
    events = db.session.scalar(select(func.count(ProposalEvent.id)))
    # Simulate a concurrent request: the form's and the service's own checks saw nothing yet.
    monkeypatch.setattr(lookups, "need_with_standing", lambda need_id, org_id: (db.session.get(Need, need_id),
                                                                               (None, None)))
    monkeypatch.setattr(lookups, "active_and_invitation", lambda need_id, org_id: (None, None))
    refused = []
    real_duplicate = services.DuplicateProposal
    monkeypatch.setattr(services, "DuplicateProposal",
                        lambda existing=None: refused.append(existing) or real_duplicate(existing))
    client = as_user(cast.proposer)
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(title="競合"))
    assert resp.status_code == 400 and "既に" in resp.get_data(as_text=True)
    assert [p.title for p in proposals_of(db, cast.proposer.organisation_id)] != ["競合"]
    assert len(proposals_of(db, cast.proposer.organisation_id)) == 1
    assert db.session.scalar(select(func.count(ProposalEvent.id))) == events
    assert refused == [None]  # refused by the index (after the INSERT), not by a check before it


def test_new_proposal_allowed_after_withdrawal_or_decline(cast, factory, as_user, db):
    client = as_user(cast.proposer)
    for final in ("withdrawn", "declined"):
        need = factory.need(owner=cast.owner)
        factory.proposal(need, cast.proposer, stage=final)
        assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
        assert [p.stage for p in proposals_of(db, cast.proposer.organisation_id)][-2:] == [final, "submitted"]


def test_withdraw_then_propose_again_through_the_pages(cast, need, as_user, db):
    client = as_user(cast.proposer)
    client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    [first] = proposals_of(db, cast.proposer.organisation_id)
    assert client.post(f"/proposals/{first.id}/withdraw", data={"note": "体制を見直します"}).status_code == 302
    assert client.get(f"/proposals/new?need_id={need.id}").status_code == 200
    assert client.post(f"/proposals/new?need_id={need.id}", data=proposal_form()).status_code == 302
    assert [p.stage for p in proposals_of(db, cast.proposer.organisation_id)] == ["withdrawn", "submitted"]
