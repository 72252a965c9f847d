"""Optimistic concurrency on the edit pages: two people open the same edit
form; the second save gets the conflict page (409) with both versions, loses
nothing, and can re-apply its values deliberately."""

from __future__ import annotations

import re

from oims.models import Need, Organisation, Proposal

from ..factories import login


def _version(html: str) -> str:
    m = re.search(r'name="(?:pub-)?row_version"[^>]*value="(\d+)"', html) or \
        re.search(r'value="(\d+)"[^>]*name="(?:pub-)?row_version"', html)
    assert m, "no row_version in the form"
    return m.group(1)


def _need_form(need, **changes) -> dict:
    data = {"title": need.title, "summary": need.summary, "background": need.background, "sought": need.sought,
            "partnership_types": need.partnership_types, "keywords": ", ".join(need.keywords),
            "budget": need.budget, "deadline": need.deadline.isoformat(), "desired_start": need.desired_start,
            "action": "save"}
    data.update(changes)
    return data


def test_two_coordinators_edit_the_same_need(app, db, cast, factory):
    owner = cast.owner
    c1 = factory.user("coordinator", name="調整 一郎")
    c2 = factory.user("coordinator", name="調整 二郎")
    need = factory.need(owner=owner, status="published")
    a, b = app.test_client(), app.test_client()
    login(a, c1)
    login(b, c2)
    va = _version(a.get(f"/needs/{need.id}/edit").get_data(as_text=True))
    vb = _version(b.get(f"/needs/{need.id}/edit").get_data(as_text=True))
    assert va == vb
    r = a.post(f"/needs/{need.id}/edit", data=_need_form(need, row_version=va, title="一郎の題名"))
    assert r.status_code == 302
    r = b.post(f"/needs/{need.id}/edit", data=_need_form(need, row_version=vb, title="二郎の題名",
                                                         budget="二郎の予算"))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert 'id="conflict"' in html
    assert "一郎の題名" in html and "二郎の題名" in html and "二郎の予算" in html  # theirs and yours, field by field
    db.session.expire_all()
    assert db.session.get(Need, need.id).title == "一郎の題名"  # the first save stands
    assert db.session.get(Need, need.id).budget != "二郎の予算"
    # The page keeps the second user's values and now carries the current version: saving re-applies them.
    new_version = _version(html)
    assert int(new_version) > int(vb)
    assert 'value="二郎の題名"' in html
    r = b.post(f"/needs/{need.id}/edit", data=_need_form(need, row_version=new_version, title="二郎の題名",
                                                         budget="二郎の予算"))
    assert r.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Need, need.id)
    assert (saved.title, saved.budget) == ("二郎の題名", "二郎の予算")
    # Both edits are in the version history (nothing lost).
    assert any(v.snapshot["title"] == "一郎の題名" for v in saved.versions)


def test_coordinator_publish_after_owner_change_is_a_conflict(app, db, cast, factory):
    owner = cast.owner
    coord = cast.coordinator
    need = factory.need(owner=owner, status="review")
    c = app.test_client()
    login(c, coord)
    v = _version(c.get(f"/needs/{need.id}/review").get_data(as_text=True))
    need.title = "所有者が直前に変更"
    db.session.commit()
    data = {f"pub-{k}": val for k, val in _need_form(need, title="調整者の修正").items() if k != "action"}
    data.update({"pub-row_version": v, "action": "publish"})
    r = c.post(f"/needs/{need.id}/review", data=data)
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "所有者が直前に変更" in html and "調整者の修正" in html
    db.session.expire_all()
    assert db.session.get(Need, need.id).status == "review"


def test_stale_proposal_edit_is_a_conflict(app, db, cast, factory):
    owner = cast.owner
    proposer = cast.proposer
    colleague = factory.user("proposer", org=proposer.organisation)
    need = factory.need(owner=owner)
    prop = factory.proposal(need, proposer, stage="draft")
    a, b = app.test_client(), app.test_client()
    login(a, proposer)
    login(b, colleague)
    va = _version(a.get(f"/proposals/{prop.id}/edit").get_data(as_text=True))
    vb = _version(b.get(f"/proposals/{prop.id}/edit").get_data(as_text=True))
    base = {"title": prop.title, "summary": prop.summary, "solution": prop.solution, "action": "draft"}
    assert a.post(f"/proposals/{prop.id}/edit", data=dict(base, row_version=va, solution="Aの解決策")).status_code == 302
    r = b.post(f"/proposals/{prop.id}/edit", data=dict(base, row_version=vb, solution="Bの解決策"))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Aの解決策" in html and "Bの解決策" in html
    db.session.expire_all()
    assert db.session.get(Proposal, prop.id).solution == "Aの解決策"


def test_stale_organisation_profile_is_a_conflict(app, db, cast, factory):
    user = cast.proposer
    colleague = factory.user("proposer", org=user.organisation)
    org = user.organisation
    a, b = app.test_client(), app.test_client()
    login(a, user)
    login(b, colleague)
    va = _version(a.get(f"/orgs/{org.id}/edit").get_data(as_text=True))
    vb = _version(b.get(f"/orgs/{org.id}/edit").get_data(as_text=True))
    base = {"name": org.name, "prefecture": org.prefecture, "industry": org.industry,
            "employee_band": org.employee_band}
    assert a.post(f"/orgs/{org.id}/edit", data=dict(base, row_version=va, profile="Aの紹介")).status_code == 302
    r = b.post(f"/orgs/{org.id}/edit", data=dict(base, row_version=vb, profile="Bの紹介"))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Aの紹介" in html and "Bの紹介" in html
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).profile == "Aの紹介"
    r = b.post(f"/orgs/{org.id}/edit", data=dict(base, row_version=_version(html), profile="Bの紹介"))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).profile == "Bの紹介"




def test_change_between_check_and_commit_is_a_conflict_too(app, db, cast, factory, monkeypatch):
    """Another transaction commits after the form's version check passed and
    before this save commits: the version-checked UPDATE matches no row, and
    the page is the conflict page, not an overwrite."""
    from sqlalchemy import text

    from oims.extensions import db as _db
    from oims.needs import views

    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    real_check = views.check_version

    def check_then_someone_saves(obj, expected):
        real_check(obj, expected)
        with _db.engine.begin() as conn:  # a separate connection and transaction, committed
            conn.execute(text("UPDATE need SET title = :t, row_version = row_version + 1 WHERE id = :id"),
                         {"t": "別の人の保存", "id": obj.id})

    monkeypatch.setattr(views, "check_version", check_then_someone_saves)
    c = app.test_client()
    login(c, owner)
    v = _version(c.get(f"/needs/{need.id}/edit").get_data(as_text=True))
    r = c.post(f"/needs/{need.id}/edit", data=_need_form(need, row_version=v, title="私の保存"))
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "別の人の保存" in html and "私の保存" in html
    db.session.expire_all()
    assert db.session.get(Need, need.id).title == "別の人の保存"
