"""Who sees a need in each status: detail page (200/404) and browse list."""

from __future__ import annotations

import pytest

STATUSES = ["draft", "review", "returned", "published", "closed", "withdrawn", "fulfilled"]
# role -> statuses whose detail page it may open
EXPECTED = {
    "owner": set(STATUSES),
    "coordinator": set(STATUSES),                       # same bureau: everything
    "admin": set(STATUSES),
    "other_coordinator": {"published", "closed", "fulfilled"},
    "proposer": {"published"},                          # closed ones only when it proposed
    "other_owner": {"published"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_detail_visibility_by_status(cast, as_user, factory, role):
    needs = {s: factory.need(cast.owner, status=s, deadline_days=-5 if s in ("closed", "fulfilled") else 20)
             for s in STATUSES}
    c = as_user(getattr(cast, role))
    for status, need in needs.items():
        code = c.get(f"/needs/{need.id}").status_code
        assert code == (200 if status in EXPECTED[role] else 404), (role, status)
        if status not in EXPECTED[role]:
            # not even the attachment list or history leaks
            assert c.get(f"/needs/{need.id}/versions").status_code == 404


def test_proposer_sees_closed_need_it_proposed_to(cast, as_user, factory):
    need = factory.need(cast.owner, status="published")
    factory.proposal(need, cast.proposer)
    need.status = "closed"
    factory.db.session.commit()
    c = as_user(cast.proposer)
    assert c.get(f"/needs/{need.id}").status_code == 200
    c = as_user(cast.other_proposer)
    assert c.get(f"/needs/{need.id}").status_code == 404


@pytest.mark.parametrize("role", ["proposer", "other_owner", "other_coordinator"])
def test_browse_lists_only_published(cast, as_user, factory, role):
    titles = {s: f"可視性テスト{s}" for s in STATUSES}
    for s in STATUSES:
        factory.need(cast.owner, status=s, title=titles[s])
    c = as_user(getattr(cast, role))
    page = c.get("/needs/?q=可視性テスト").get_data(as_text=True)
    assert titles["published"] in page
    for s in STATUSES:
        if s != "published":
            assert titles[s] not in page, s
    # asking for another status does not widen what a proposer may see
    page = c.get("/needs/?q=可視性テスト&status=draft").get_data(as_text=True)
    assert titles["draft"] not in page


def test_staff_may_list_other_statuses_of_their_bureau(cast, as_user, factory):
    factory.need(cast.owner, status="review", title="審査中のニーズ")
    c = as_user(cast.coordinator)
    assert "審査中のニーズ" in c.get("/needs/?status=review").get_data(as_text=True)
    c = as_user(cast.other_coordinator)
    assert "審査中のニーズ" not in c.get("/needs/?status=review").get_data(as_text=True)


def test_my_needs_lists_own_organisation_only(cast, as_user, factory):
    factory.need(cast.owner, status="draft", title="自社の下書きニーズ")
    factory.need(cast.other_owner, status="draft", title="他社の下書きニーズ")
    c = as_user(cast.owner)
    page = c.get("/needs/mine").get_data(as_text=True)
    assert "自社の下書きニーズ" in page and "他社の下書きニーズ" not in page


@pytest.mark.parametrize("role,code", [("proposer", 403), ("coordinator", 403), ("owner", 200)])
def test_my_needs_is_for_owners(cast, as_user, role, code):
    c = as_user(getattr(cast, role))
    assert c.get("/needs/mine").status_code == code


@pytest.mark.parametrize("role,code", [("proposer", 403), ("owner", 403), ("coordinator", 200), ("admin", 200)])
def test_review_queue_is_for_staff(cast, as_user, role, code):
    c = as_user(getattr(cast, role))
    assert c.get("/needs/review").status_code == code


def test_review_queue_shows_own_bureau(cast, as_user, factory):
    factory.need(cast.owner, status="review", title="関東の審査待ち")
    factory.need(cast.other_owner, status="review", title="近畿の審査待ち")
    c = as_user(cast.coordinator)
    page = c.get("/needs/review").get_data(as_text=True)
    assert "関東の審査待ち" in page and "近畿の審査待ち" not in page
    c = as_user(cast.admin)
    page = c.get("/needs/review").get_data(as_text=True)
    assert "関東の審査待ち" in page and "近畿の審査待ち" in page


def test_anonymous_visitor_is_sent_to_login(client, cast, factory):
    need = factory.need(cast.owner, status="published")
    for url in ("/needs/", f"/needs/{need.id}", "/needs/mine", "/needs/review", "/needs/new"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"], url


def test_dashboard_panels(cast, as_user, factory):
    factory.need(cast.owner, status="review", title="ダッシュボード審査待ち")
    factory.need(cast.owner, status="published", title="ダッシュボード公開中")
    c = as_user(cast.owner)
    page = c.get("/dashboard").get_data(as_text=True)
    assert "/needs/mine" in page
    c = as_user(cast.coordinator)
    assert "ダッシュボード審査待ち" in c.get("/dashboard").get_data(as_text=True)
    c = as_user(cast.proposer)
    page = c.get("/dashboard").get_data(as_text=True)
    assert "ダッシュボード公開中" in page and "ダッシュボード審査待ち" not in page


def test_propose_button_only_while_accepting(cast, as_user, factory, app):
    if "proposals.new" not in app.view_functions:
        pytest.skip("proposals feature not installed")
    open_need = factory.need(cast.owner, status="published", deadline_days=10)
    past = factory.need(cast.owner, status="published", deadline_days=-1)  # not yet closed by the job
    c = as_user(cast.proposer)
    assert "/proposals/" in _propose_links(c.get(f"/needs/{open_need.id}").get_data(as_text=True))
    assert _propose_links(c.get(f"/needs/{past.id}").get_data(as_text=True)) == ""
    factory.proposal(open_need, cast.proposer)
    assert _propose_links(c.get(f"/needs/{open_need.id}").get_data(as_text=True)) == ""
    c = as_user(cast.owner)
    assert _propose_links(c.get(f"/needs/{open_need.id}").get_data(as_text=True)) == ""


def _propose_links(html: str) -> str:
    import re

    return " ".join(re.findall(r'href="(/proposals/[^"]*need_id=\d+[^"]*|/proposals/new[^"]*)"', html))
