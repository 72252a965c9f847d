"""HTML/JS typed into forms comes back escaped (the round trip through the
real forms, services and pages), and link fields cannot carry javascript: URLs."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from oims.models import Need, Organisation, ThreadMessage

from ..factories import login
from .test_pages import ESCAPED, PAYLOAD, RAW_MARKERS


def _clean(html: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, html[max(0, html.index(marker) - 100):html.index(marker) + 50]


def test_org_profile_round_trip(client, db, cast):
    user = cast.proposer
    org = user.organisation
    assert login(client, user).status_code == 302
    data = {"name": PAYLOAD, "name_kana": PAYLOAD, "name_en": PAYLOAD, "prefecture": "13", "industry": "E",
            "employee_band": org.employee_band, "website": "https://example.jp/", "profile": PAYLOAD,
            "technologies": PAYLOAD, "certifications": PAYLOAD, "patents": PAYLOAD}
    resp = client.post(f"/orgs/{org.id}/edit", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).profile == PAYLOAD  # stored as typed, escaped on output
    for url in (f"/orgs/{org.id}", f"/orgs/{org.id}/edit", "/dashboard"):
        html = client.get(url).get_data(as_text=True)
        _clean(html)
    assert ESCAPED in client.get(f"/orgs/{org.id}").get_data(as_text=True)


def test_website_cannot_be_a_javascript_url(client, db, cast):
    user = cast.proposer
    org = user.organisation
    assert login(client, user).status_code == 302
    for evil in ("javascript:alert(1)", "javascript://example.com/%0Aalert(1)", "JaVaScRiPt://x.example.com/%0a1",
                 "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="):
        data = {"name": "安全な会社", "prefecture": "13", "industry": "E", "employee_band": org.employee_band,
                "website": evil}
        client.post(f"/orgs/{org.id}/edit", data=data)
        html = client.get(f"/orgs/{org.id}").get_data(as_text=True)
        assert not re.search(r'href\s*=\s*["\']?\s*(javascript|data):', html, re.IGNORECASE), evil


def test_need_form_round_trip(client, db, cast):
    owner = cast.owner
    assert login(client, owner).status_code == 302
    data = {"title": PAYLOAD, "summary": PAYLOAD, "background": PAYLOAD, "sought": PAYLOAD,
            "partnership_types": ["joint_rnd"], "keywords": "<script>alert(1)</script>, CFRP", "budget": PAYLOAD[:100],
            "deadline": (date.today() + timedelta(days=20)).isoformat(), "desired_start": PAYLOAD[:50]}
    resp = client.post("/needs/new", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    need = db.session.scalars(select(Need).order_by(Need.id.desc())).first()
    for url in (f"/needs/{need.id}", f"/needs/{need.id}/edit", "/needs/mine", "/dashboard"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        _clean(resp.get_data(as_text=True))
    assert ESCAPED in client.get(f"/needs/{need.id}").get_data(as_text=True)


def test_bad_form_re_render_is_escaped(client, cast):
    """A refused form shows the typed text again: escaped as well."""
    owner = cast.owner
    assert login(client, owner).status_code == 302
    resp = client.post("/needs/new", data={"title": PAYLOAD, "summary": ""})
    assert resp.status_code == 400
    _clean(resp.get_data(as_text=True))


def test_proposal_form_and_thread_round_trip(client, db, cast, factory):
    need = factory.need()
    proposer = cast.proposer
    assert login(client, proposer).status_code == 302
    data = {"title": PAYLOAD, "summary": PAYLOAD, "solution": PAYLOAD, "track_record": PAYLOAD,
            "team": PAYLOAD, "schedule": PAYLOAD[:100], "cost": PAYLOAD[:100], "answered_other": PAYLOAD}
    resp = client.post(f"/proposals/new?need_id={need.id}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    location = resp.headers["Location"]
    html = client.get(location).get_data(as_text=True)
    _clean(html)
    assert ESCAPED in html
    # a forwarded proposal's thread
    from oims.models import Proposal

    prop = factory.proposal(factory.need(), proposer=proposer, stage="shortlisted")
    resp = client.post(f"/brokerage/case/{prop.id}/message", data={"body": PAYLOAD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    assert db.session.scalar(select(ThreadMessage.body).where(ThreadMessage.proposal_id == prop.id)) == PAYLOAD
    html = client.get(f"/brokerage/case/{prop.id}").get_data(as_text=True)
    _clean(html)
    assert ESCAPED in html
    assert db.session.get(Proposal, prop.id) is not None


def test_user_name_round_trip(client, db, cast):
    user = cast.proposer
    assert login(client, user).status_code == 302
    resp = client.post("/auth/settings", data={"name": PAYLOAD[:100], "language": "ja", "save_settings": "1"})
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.name == PAYLOAD[:100].strip()  # stored as typed; escaped only when shown
    for url in ("/auth/settings", "/dashboard", f"/orgs/{user.organisation_id}"):
        _clean(client.get(url).get_data(as_text=True))


def test_csv_exports_neutralise_formulas(client, db, cast, factory):
    owner = cast.owner
    factory.need(owner=owner, title='=HYPERLINK("http://evil.example","x")')
    assert login(client, owner).status_code == 302
    resp = client.get("/insight/export/needs.csv")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert "=HYPERLINK" in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), line
