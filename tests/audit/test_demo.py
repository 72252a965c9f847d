"""The demo shows the h11 screens with data, and its owner-view step is idempotent."""

from sqlalchemy import func, select

from oims.models import AuditLog

from ..factories import login


def _views(db):
    return db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "proposal.viewed_by_owner"))


def test_demo_owner_views_and_pages(app, runner, db):
    assert runner.invoke(args=["oims", "demo", "--password", "demo-password-42"]).exit_code == 0
    first = _views(db)
    assert first > 0
    assert runner.invoke(args=["oims", "demo", "--password", "demo-password-42"]).exit_code == 0
    assert _views(db) == first
    pages = {"owner@example.jp": ["/audit/proposal-views"], "coordinator@example.jp": ["/audit/", "/insight/strength",
                                                                                       "/insight/declines"]}
    for email, urls in pages.items():
        client = app.test_client()
        assert login(client, email, "demo-password-42").status_code == 302
        for url in urls:
            resp = client.get(url)
            html = resp.get_data(as_text=True)
            assert resp.status_code == 200 and "まだ" not in html.split("<main", 1)[-1] and "No entries" not in html, url
