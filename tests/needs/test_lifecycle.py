"""Each lifecycle transition through the HTTP client, allowed and refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from oims.models import AuditLog, Need, NeedVersion, Notification, OutboxMessage

from .conftest import need_form


def _need(db, need_id):
    db.session.expire_all()
    return db.session.get(Need, need_id)


def _prefixed(data, prefix="pub-"):
    return {prefix + k: v for k, v in data.items()}


def test_owner_creates_draft_then_submits(cast, as_user, db):
    assert cast.coordinator and cast.other_coordinator
    c = as_user(cast.owner)
    resp = c.post("/needs/new", data=need_form(action="save"))
    assert resp.status_code == 302
    need = db.session.scalar(select(Need))
    assert need.status == "draft" and need.owner_org_id == cast.owner_org.id
    assert need.bureau == "kanto" and need.keywords == ["軽量化", "CFRP", "異材接合"]
    assert need.partnership_types == ["joint_rnd", "supply"] and need.regions == ["kanto"]
    assert "軽量化" in need.search_text
    resp = c.post(f"/needs/{need.id}/submit")
    assert resp.status_code == 302
    need = _need(db, need.id)
    assert need.status == "review" and need.submitted_at is not None
    # the bureau's coordinator (not the other bureau's) is told, in-app and by e-mail
    assert db.session.scalar(select(Notification).where(Notification.user_id == cast.coordinator.id,
                                                        Notification.kind == "need_submitted"))
    assert not db.session.scalar(select(Notification).where(Notification.user_id == cast.other_coordinator.id))
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to == cast.coordinator.email))
    assert need.title in mail.body_text
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "need.submitted"))


def test_create_and_submit_in_one_step(cast, as_user, db):
    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(action="submit")).status_code == 302
    assert db.session.scalar(select(Need.status)) == "review"


@pytest.mark.parametrize("role", ["proposer", "coordinator", "admin"])
def test_only_need_owners_create(cast, as_user, db, role):
    user = {"proposer": cast.proposer, "coordinator": cast.coordinator, "admin": cast.admin}[role]
    c = as_user(user)
    assert c.post("/needs/new", data=need_form()).status_code == 403
    assert db.session.scalar(select(func.count(Need.id))) == 0


def test_coordinator_publishes_with_edits_owner_sees_diff(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review", title="軽量化部材の共同開発（社外秘）")
    c = as_user(cast.coordinator)
    edits = need_form(title="軽量化部材の共同開発")
    resp = c.post(f"/needs/{need.id}/review", data=_prefixed(edits) | {"action": "publish"})
    assert resp.status_code == 302
    need = _need(db, need.id)
    assert need.status == "published" and need.published_by_id == cast.coordinator.id
    assert need.title == "軽量化部材の共同開発" and need.version == 2
    version = db.session.scalar(select(NeedVersion).where(NeedVersion.need_id == need.id))
    assert version.reason == "coordinator_edit" and version.snapshot["title"] == "軽量化部材の共同開発（社外秘）"
    assert db.session.scalar(select(Notification).where(Notification.user_id == cast.owner.id,
                                                        Notification.kind == "need_published"))
    c = as_user(cast.owner)
    page = c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "<del>（社外秘）</del>" in page
    history = c.get(f"/needs/{need.id}/versions").get_data(as_text=True)
    assert "<del>（社外秘）</del>" in history


def test_publish_without_edits_makes_no_version(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review")
    c = as_user(cast.coordinator)
    c.get(f"/needs/{need.id}/review")
    form = need_form(title=need.title, summary=need.summary, background=need.background, sought=need.sought,
                     partnership_types=need.partnership_types, keywords=", ".join(need.keywords),
                     regions=need.regions, budget=need.budget, desired_start=need.desired_start,
                     deadline=need.deadline.isoformat())
    assert c.post(f"/needs/{need.id}/review", data=_prefixed(form) | {"action": "publish"}).status_code == 302
    need = _need(db, need.id)
    assert need.status == "published" and need.version == 1 and need.versions == []


def test_coordinator_returns_with_comment(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review")
    c = as_user(cast.coordinator)
    resp = c.post(f"/needs/{need.id}/review", data={"ret-comment": "予算の記載を追加してください。", "action": "return"})
    assert resp.status_code == 302
    need = _need(db, need.id)
    assert need.status == "returned" and need.review_comment == "予算の記載を追加してください。"
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to == cast.owner.email))
    assert "予算の記載を追加してください。" in mail.body_text
    # the owner sees the comment, edits and resubmits
    c = as_user(cast.owner)
    assert "予算の記載を追加してください。" in c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert c.post(f"/needs/{need.id}/edit", data=need_form(budget="500万円", action="submit")).status_code == 302
    assert _need(db, need.id).status == "review"


def test_return_needs_a_comment(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review")
    c = as_user(cast.coordinator)
    resp = c.post(f"/needs/{need.id}/review", data={"ret-comment": "  ", "action": "return"})
    assert resp.status_code == 400
    assert _need(db, need.id).status == "review"


@pytest.mark.parametrize("who,expected", [
    ("other_coordinator", 404),  # another bureau's need under review does not exist for them
    ("owner", 403),  # sees its own need, may not publish it
    ("proposer", 403),  # the review page is for staff: refused before any lookup
])
def test_publish_refused(cast, as_user, factory, db, who, expected):
    need = factory.need(cast.owner, status="review")
    c = as_user(getattr(cast, who))
    resp = c.post(f"/needs/{need.id}/review", data=_prefixed(need_form()) | {"action": "publish"})
    assert resp.status_code == expected
    assert _need(db, need.id).status == "review"


def test_return_refused_outside_the_bureau(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review")
    for user, expected in ((cast.other_coordinator, 404), (cast.owner, 403), (cast.proposer, 403)):
        c = as_user(user)
        resp = c.post(f"/needs/{need.id}/review", data={"ret-comment": "修正してください。", "action": "return"})
        assert resp.status_code == expected, user.role
    assert _need(db, need.id).status == "review"


def test_other_bureau_coordinator_cannot_see_review(cast, as_user, factory):
    need = factory.need(cast.owner, status="review")
    c = as_user(cast.other_coordinator)
    assert c.get(f"/needs/{need.id}").status_code == 404
    assert need.title not in c.get("/needs/review").get_data(as_text=True)


def test_admin_may_publish_any_bureau(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review")
    c = as_user(cast.admin)
    assert c.post(f"/needs/{need.id}/review", data=_prefixed(need_form()) | {"action": "publish"}).status_code == 302
    assert _need(db, need.id).status == "published"


def test_publish_only_from_review(cast, as_user, factory, db):
    c = as_user(cast.coordinator)
    for status in ("draft", "returned", "published", "closed", "withdrawn", "fulfilled"):
        need = factory.need(cast.owner, status=status, deadline_days=-1 if status == "closed" else 30)
        resp = c.post(f"/needs/{need.id}/review", data=_prefixed(need_form()) | {"action": "publish"})
        assert resp.status_code == 400, status
        assert _need(db, need.id).status == status


def test_submit_only_from_draft_or_returned(cast, as_user, factory, db):
    c = as_user(cast.owner)
    for status, ok in (("draft", True), ("returned", True), ("review", False), ("published", False),
                       ("withdrawn", False)):
        need = factory.need(cast.owner, status=status)
        assert c.post(f"/needs/{need.id}/submit").status_code == (302 if ok else 400), status
        assert _need(db, need.id).status == ("review" if ok else status)


def test_submit_refused_for_others(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="draft")
    colleague = factory.user("need_owner", org=cast.owner_org)
    c = as_user(cast.coordinator)  # sees the draft of its bureau, may not submit it for the owner
    assert c.post(f"/needs/{need.id}/submit").status_code == 403
    c = as_user(cast.other_owner)
    assert c.post(f"/needs/{need.id}/submit").status_code == 404
    c = as_user(colleague)  # a colleague in the owner's organisation may
    assert c.post(f"/needs/{need.id}/submit").status_code == 302


def test_submit_refused_when_deadline_passed(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="draft", deadline_days=-1)
    c = as_user(cast.owner)
    assert c.post(f"/needs/{need.id}/submit").status_code == 400
    assert _need(db, need.id).status == "draft"


def test_withdraw(cast, as_user, factory, db):
    c = as_user(cast.owner)
    for status, ok in (("draft", True), ("review", True), ("returned", True), ("published", True),
                       ("closed", False), ("fulfilled", False), ("withdrawn", False)):
        need = factory.need(cast.owner, status=status)
        assert c.post(f"/needs/{need.id}/withdraw").status_code == (302 if ok else 400), status
        assert _need(db, need.id).status == ("withdrawn" if ok else status)


def test_withdraw_refused_for_coordinator_and_proposer(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published")
    for user in (cast.coordinator, cast.proposer):
        c = as_user(user)
        assert c.post(f"/needs/{need.id}/withdraw").status_code == 403
    assert _need(db, need.id).status == "published"


def test_withdrawing_a_published_need_tells_proposers(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published")
    factory.proposal(need, cast.proposer)
    c = as_user(cast.owner)
    c.post(f"/needs/{need.id}/withdraw")
    assert db.session.scalar(select(Notification).where(Notification.user_id == cast.proposer.id,
                                                        Notification.kind == "need_withdrawn"))


def test_mark_fulfilled(cast, as_user, factory, db):
    # 302: done; 400: the owner's need, in a state that cannot be fulfilled; 403: a visible need, not the
    # user's to fulfil (a published need is visible to every signed-in user).
    for who, status, expected in (("owner", "published", 302), ("owner", "closed", 302),
                                  ("coordinator", "published", 302), ("owner", "draft", 400),
                                  ("owner", "withdrawn", 400), ("proposer", "published", 403),
                                  ("other_coordinator", "published", 403)):
        need = factory.need(cast.owner, status=status)
        c = as_user(getattr(cast, who))
        resp = c.post(f"/needs/{need.id}/fulfil")
        assert resp.status_code == expected, (who, status)
        if expected == 302:
            assert resp.headers["Location"].endswith(f"/needs/{need.id}")
        assert _need(db, need.id).status == ("fulfilled" if expected == 302 else status)


def test_close_expired_closes_only_published_past_deadline(cast, factory, runner, db):
    past = factory.need(cast.owner, status="published", deadline_days=-1)
    today = factory.need(cast.owner, status="published", deadline_days=0)
    future = factory.need(cast.owner, status="published", deadline_days=3)
    draft = factory.need(cast.owner, status="draft", deadline_days=-3)
    result = runner.invoke(args=["oims", "close-needs"])
    assert result.exit_code == 0 and "closed 1" in result.output
    db.session.expire_all()
    assert [db.session.get(Need, n.id).status for n in (past, today, future, draft)] == [
        "closed", "published", "published", "draft"]
    assert db.session.get(Need, past.id).closed_at is not None


def test_edit_permissions_by_status(cast, as_user, factory, db):
    cases = [("owner", "draft", 200), ("owner", "returned", 200), ("owner", "published", 200),
             ("owner", "review", 403), ("owner", "closed", 403), ("coordinator", "review", 200),
             ("coordinator", "published", 200), ("coordinator", "draft", 403),
             ("other_coordinator", "published", 403), ("proposer", "published", 403)]
    for who, status, code in cases:
        need = factory.need(cast.owner, status=status)
        c = as_user(getattr(cast, who))
        assert c.get(f"/needs/{need.id}/edit").status_code == code, (who, status)


def test_deadline_after_publication_may_be_extended(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published")
    c = as_user(cast.owner)
    new_deadline = (date.today() + timedelta(days=60)).isoformat()
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(title=need.title, deadline=new_deadline))
    assert resp.status_code == 302
    need = _need(db, need.id)
    assert need.deadline.isoformat() == new_deadline and need.version == 2


@pytest.mark.parametrize("status", ["draft", "review", "returned", "published", "closed", "withdrawn", "fulfilled"])
def test_the_need_page_offers_what_the_routes_allow(cast, as_user, factory, db, status):
    """A button on the need page (its flag from oims.policy) is there exactly
    when posting it succeeds: the page and the route ask the same rules."""
    for who in ("owner", "coordinator", "admin", "proposer"):
        for action in ("submit", "withdraw", "fulfil"):
            need = factory.need(cast.owner, status=status, deadline_days=-1 if status == "closed" else 30)
            c = as_user(getattr(cast, who))
            page = c.get(f"/needs/{need.id}")
            if page.status_code == 404:
                continue  # may not see it: no page, no button
            offered = f'action="/needs/{need.id}/{action}"' in page.get_data(as_text=True)
            done = c.post(f"/needs/{need.id}/{action}").status_code == 302
            assert offered == done, (who, status, action)
