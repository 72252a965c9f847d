"""Changes after publication: versions, diffs and notifications to proposers;
deadline reminders; the demo step."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from oims.models import Need, NeedVersion, Notification, OutboxMessage

from ..rows import last_id, rows_after
from .conftest import need_form


def _form_of(need, **overrides):
    data = need_form(title=need.title, summary=need.summary, background=need.background, sought=need.sought,
                     partnership_types=need.partnership_types, keywords=", ".join(need.keywords),
                     regions=need.regions, budget=need.budget, desired_start=need.desired_start,
                     deadline=need.deadline.isoformat())
    data.update(overrides)
    return data


def test_change_after_publication_versions_and_tells_active_proposers(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published", sought="CFRPの成形技術。")
    factory.proposal(need, cast.proposer, stage="screening")
    declined = factory.user("proposer")
    factory.proposal(need, declined, stage="declined")
    bystander = factory.user("proposer")
    mark = last_id(db, OutboxMessage)
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/edit", data=_form_of(need, sought="CFRPの成形技術と量産実績。"))
    assert resp.status_code == 302
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    assert need.version == 2 and need.sought == "CFRPの成形技術と量産実績。"
    version = db.session.scalar(select(NeedVersion))
    assert version.reason == "edit_after_publish" and version.snapshot["sought"] == "CFRPの成形技術。"
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "need_changed")))
    assert told == {cast.proposer.id}
    [mail] = rows_after(db, OutboxMessage, mark, OutboxMessage.to == cast.proposer.email)
    assert need.title in mail.body_text and f"/needs/{need.id}" in mail.body_text
    assert not rows_after(db, OutboxMessage, mark, OutboxMessage.to.in_([declined.email, bystander.email]))
    # the proposer sees what changed
    c = as_user(cast.proposer)
    history = c.get(f"/needs/{need.id}/versions").get_data(as_text=True)
    assert "<ins>と量産実績</ins>" in history


def test_saving_without_changes_makes_no_version(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published")
    factory.proposal(need, cast.proposer)
    mark = last_id(db, Notification)
    c = as_user(cast.owner)
    assert c.post(f"/needs/{need.id}/edit", data=_form_of(need)).status_code == 302
    assert db.session.scalar(select(func.count(NeedVersion.id))) == 0
    assert rows_after(db, Notification, mark) == []


def test_draft_edits_are_not_versioned(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="draft")
    c = as_user(cast.owner)
    assert c.post(f"/needs/{need.id}/edit", data=_form_of(need, title="新しいタイトル")).status_code == 302
    assert db.session.scalar(select(func.count(NeedVersion.id))) == 0


def test_coordinator_edit_before_publication_is_hidden_from_proposers(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="review", summary="元の概要です。直接お問い合わせください。")
    c = as_user(cast.coordinator)
    data = {"pub-" + k: v for k, v in _form_of(need, summary="元の概要です。").items()}
    assert c.post(f"/needs/{need.id}/review", data=data | {"action": "publish"}).status_code == 302
    c = as_user(cast.proposer)
    page = c.get(f"/needs/{need.id}/versions").get_data(as_text=True)
    assert "直接お問い合わせください" not in page
    assert "直接お問い合わせください" not in c.get(f"/needs/{need.id}").get_data(as_text=True)


def test_published_anonymous_need_cannot_be_made_public(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published", anonymous=True)
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/edit", data=_form_of(need))  # anonymous box unticked
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(Need, need.id).anonymous is True


def test_deadline_reminders_once_per_threshold(cast, factory, db):
    from oims.needs.deadlines import remind_deadlines

    soon = factory.need(cast.owner, status="published", deadline_days=6)
    factory.need(cast.owner, status="published", deadline_days=20)       # too far
    factory.need(cast.owner, status="draft", deadline_days=3)            # not published
    factory.proposal(soon, cast.proposer, stage="draft")
    factory.proposal(soon, cast.other_proposer, stage="submitted")       # already proposed: not reminded
    mark = last_id(db, OutboxMessage)
    assert remind_deadlines() == 1
    db.session.commit()
    to = sorted(m.to for m in rows_after(db, OutboxMessage, mark))
    assert to == sorted([cast.owner.email, cast.proposer.email])
    assert remind_deadlines() == 0  # running again sends nothing
    # one day before, the last reminder goes out
    from datetime import timedelta

    assert remind_deadlines(today=soon.deadline - timedelta(days=1)) == 1
    assert remind_deadlines(today=soon.deadline - timedelta(days=1)) == 0
    assert len(rows_after(db, OutboxMessage, mark)) == 4


def test_remind_cli(cast, factory, runner):
    factory.need(cast.owner, status="published", deadline_days=2)
    result = runner.invoke(args=["oims", "remind-deadlines"])
    assert result.exit_code == 0 and "reminded 1" in result.output


def test_demo_step_loads_needs_idempotently(db):
    from oims.demo import data as demo_data
    from oims.demo.loader import _orgs, _users
    from oims.needs.demo import load_demo_needs

    orgs = _orgs()
    users = _users(orgs, "demo-password-42")
    counts = load_demo_needs(orgs, users)
    db.session.commit()
    assert db.session.scalar(select(func.count(Need.id))) == 24
    versions = db.session.scalar(select(func.count(NeedVersion.id)))
    assert counts == {"needs": 24, "need_versions": versions} and versions > 0
    load_demo_needs(orgs, users)
    db.session.commit()
    assert db.session.scalar(select(func.count(Need.id))) == 24
    assert db.session.scalar(select(func.count(NeedVersion.id))) == versions
    by_title = {n.title: n for n in db.session.scalars(select(Need))}
    for row in demo_data.NEEDS:
        need = by_title[row["title"]]
        assert need.status == row["status"] and need.anonymous == row["anonymous"]
        assert (need.deadline - date.today()).days == row["deadline_days"]
        if need.anonymous:
            assert "・案件" in need.alias and need.owner_org.name not in need.search_text
    assert {n.status for n in by_title.values()} >= {"draft", "review", "returned", "published", "closed", "fulfilled"}
