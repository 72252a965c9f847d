"""Audit screens through HTTP: the staff trail (scoped, filtered, paginated,
CSV), the owner's list of views, the proposer's "first opened" notice."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from oims.models import AuditLog

from ..factories import login

SECRET_FIRM = "秘匿重機株式会社"


def _client(app, user):
    c = app.test_client()
    assert login(c, user).status_code == 302
    return c


def _world(factory, db):
    owner = factory.user("need_owner", org=factory.org(kind="large", prefecture="13", name=SECRET_FIRM),
                         name="閲覧 花子")
    need = factory.need(owner=owner, anonymous=True, title="匿名の軽量化ニーズ")
    proposer = factory.user("proposer", prefecture="13")
    prop = factory.proposal(need, proposer=proposer, stage="shortlisted", title="関東の提案")
    owner_k = factory.user("need_owner", org=factory.org(kind="large", prefecture="27"))
    need_k = factory.need(owner=owner_k, title="近畿のニーズ")
    prop_k = factory.proposal(need_k, stage="shortlisted", title="近畿の提案")
    coord = factory.user("coordinator", prefecture="13", name="関東 調整官")
    coord_k = factory.user("coordinator", prefecture="27")
    admin = factory.user("admin")
    return dict(owner=owner, need=need, proposer=proposer, prop=prop, owner_k=owner_k, need_k=need_k,
                prop_k=prop_k, coord=coord, coord_k=coord_k, admin=admin)


def test_owner_view_is_shown_to_owner_and_first_time_to_proposer(app, db, factory):
    w = _world(factory, db)
    pc = _client(app, w["proposer"])
    html = pc.get(f"/proposals/{w['prop'].id}").get_data(as_text=True)
    assert "まだこの提案を開いていません" in html or "not opened this proposal yet" in html
    oc = _client(app, w["owner"])
    assert oc.get(f"/proposals/{w['prop'].id}").status_code == 200
    first = db.session.scalar(db.select(AuditLog.created_at).where(AuditLog.action == "proposal.viewed_by_owner"))
    assert oc.get(f"/proposals/{w['prop'].id}").status_code == 200  # a second view: the first time stays
    views = oc.get("/audit/proposal-views").get_data(as_text=True)
    assert views.count("<td>閲覧 花子</td>") == 2 and "関東の提案" in views
    html = pc.get(f"/proposals/{w['prop'].id}").get_data(as_text=True)
    notice = html.split('first-owner-view">', 1)[1].split("</p>", 1)[0]
    from flask_babel import format_datetime
    with app.test_request_context():
        assert format_datetime(first, "short") in notice
    assert "ニーズ保有者" in notice
    # Anonymous owner: neither the firm nor the viewer is named to the proposer.
    assert SECRET_FIRM not in html and "閲覧 花子" not in html


def test_owner_sees_only_views_of_its_own_forwarded_proposals(app, db, factory):
    w = _world(factory, db)
    assert _client(app, w["owner_k"]).get(f"/proposals/{w['prop_k'].id}").status_code == 200
    html = _client(app, w["owner"]).get("/audit/proposal-views").get_data(as_text=True)
    assert "近畿の提案" not in html
    assert _client(app, w["proposer"]).get("/audit/proposal-views").status_code == 403


def test_trail_is_scoped_to_the_coordinators_bureau(app, db, factory):
    w = _world(factory, db)
    _client(app, w["owner"]).get(f"/proposals/{w['prop'].id}")
    _client(app, w["owner_k"]).get(f"/proposals/{w['prop_k'].id}")
    kanto = _client(app, w["coord"]).get("/audit/?action=proposal.viewed_by_owner").get_data(as_text=True)
    assert f"proposal #{w['prop'].id}<" in kanto and f"proposal #{w['prop_k'].id}<" not in kanto
    kinki = _client(app, w["coord_k"]).get("/audit/?action=proposal.viewed_by_owner").get_data(as_text=True)
    assert f"proposal #{w['prop_k'].id}<" in kinki and f"proposal #{w['prop'].id}<" not in kinki
    admin = _client(app, w["admin"]).get("/audit/?action=proposal.viewed_by_owner").get_data(as_text=True)
    assert f"proposal #{w['prop'].id}<" in admin and f"proposal #{w['prop_k'].id}<" in admin
    for who in ("owner", "proposer"):
        assert _client(app, w[who]).get("/audit/").status_code == 403
        assert _client(app, w[who]).get("/audit/trail.csv").status_code == 403


def test_filters_pagination_and_csv(app, db, factory):
    w = _world(factory, db)
    need = w["need"]
    t = lambda d: datetime(2026, 3, d, 3, tzinfo=UTC)  # noqa: E731 - 12:00 JST
    for i in range(60):
        db.session.add(AuditLog(actor_id=w["coord"].id, action="need.updated", object_type="need",
                                object_id=need.id, detail={"n": i}, created_at=t(1 + i % 20)))
    db.session.add(AuditLog(actor_id=w["owner"].id, action="need.submitted", object_type="need",
                            object_id=need.id, created_at=t(25)))
    db.session.commit()
    c = _client(app, w["coord"])
    # (The factory's own rows for the need, created/submitted/published today, are filtered out by action.)
    listing = f"/audit/?object_type=need&object_id={need.id}&action=need.updated"
    page1 = c.get(listing).get_data(as_text=True)
    assert "60" in page1 and "page=2" in page1 and page1.count("<code>need.updated</code>") == 50
    page2 = c.get(listing + "&page=2").get_data(as_text=True)
    assert page2.count("<code>need.updated</code>") == 10
    # Actor filter (by name), date range (JST days, both ends inclusive).
    by_owner = c.get("/audit/?actor=閲覧&object_type=need").get_data(as_text=True)
    assert "need.submitted</code>" in by_owner and "need.updated</code>" not in by_owner
    ranged = c.get("/audit/?from=2026-03-02&to=2026-03-03&action=need.updated").get_data(as_text=True)
    assert ranged.count("<code>need.updated</code>") == 6  # days 2 and 3: 3 entries each
    resp = c.get(f"/audit/trail.csv?object_id={need.id}&action=need.submitted&from=2026-03-25&to=2026-03-25")
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:6] == ["id", "time", "actor_id", "actor", "actor_email", "action"]
    assert len(rows) == 2 and rows[1][3] == "閲覧 花子" and rows[1][1] == "2026-03-25 12:00"
    # Bad input: a clear message, 400.
    bad = c.get("/audit/?object_id=abc&from=2026-13-01")
    assert bad.status_code == 400 and "2026-04-01" in bad.get_data(as_text=True)
    assert c.get("/audit/trail.csv?from=nope").status_code == 400


def test_ip_addresses_only_for_admins(app, db, factory):
    w = _world(factory, db)
    db.session.add(AuditLog(actor_id=w["owner"].id, action="need.updated", object_type="need",
                            object_id=w["need"].id, ip="203.0.113.7"))
    db.session.commit()
    coord = _client(app, w["coord"]).get("/audit/trail.csv?action=need.updated").get_data().decode("utf-8-sig")
    admin = _client(app, w["admin"]).get("/audit/trail.csv?action=need.updated").get_data().decode("utf-8-sig")
    assert "閲覧 花子" in coord and "203.0.113.7" not in coord
    assert "203.0.113.7" in admin
