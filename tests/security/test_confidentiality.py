"""Confidential things never show where they should not, on any page, API
answer or export: the owner of an anonymous need (to proposers until a
meeting is agreed), a proposal not yet forwarded (to the need owner) and one
firm's proposal (to its competitors)."""

from __future__ import annotations

from oims.models import Attachment

from ..factories import login
from .world import api_token_for

# What must not leak: the cast's owner (tests/cast.py) posts the anonymous need of the `scene`
# fixture (tests/security/conftest.py), and the cast's proposer the unforwarded proposal.
SECRET_FIRM = "東都モビリティ工業株式会社"
SECRET_FIRM_EN = "Toto Mobility Industries"
OWNER_NAME = "鈴木 一郎"
SECRET_PROPOSAL = "極秘提案ゼータ射出成形"


def _responses(app, db, user, urls, api_urls):
    client = app.test_client()
    assert login(client, user).status_code == 302
    headers = {"Authorization": f"Bearer {api_token_for(db, user)}"}
    for url in urls:
        resp = client.get(url)
        yield url, resp
    for url in api_urls:
        yield url, app.test_client().get(url, headers=headers)


def _text(resp) -> str:
    body = resp.get_data()
    text = body.decode("utf-8", "replace")
    disposition = resp.headers.get("Content-Disposition", "")
    return text + "\n" + disposition


def _assert_absent(app, db, user, secrets_, urls, api_urls):
    leaks = []
    for url, resp in _responses(app, db, user, urls, api_urls):
        text = _text(resp)
        for secret in secrets_:
            if secret in text:
                leaks.append(f"{url} ({resp.status_code}) shows {secret!r}")
    assert not leaks, "\n".join(leaks)


def test_anonymous_owner_hidden_from_proposers(app, db, scene):
    need, att, prop = scene["need"], scene["att"], scene["proposal"]
    urls = ["/needs/", "/needs/?q=軽量化", f"/needs/?q={SECRET_FIRM[:2]}", f"/needs/{need.id}",
            f"/needs/attachments/{att.id}", "/dashboard", "/notifications", "/proposals/mine",
            f"/proposals/{prop.id}", f"/proposals/{prop.id}/receipt", f"/proposals/{prop.id}/receipt?format=txt",
            "/insight/export/needs.csv", "/insight/export/proposals.csv", f"/brokerage/fit-check?need_id={need.id}",
            f"/proposals/new?need_id={need.id}", "/account/data.json"]
    api = ["/api/v1/needs", f"/api/v1/needs/{need.id}", "/api/v1/proposals", f"/api/v1/proposals/{prop.id}",
           "/api/v1/matches/needs"]
    for who in ("p1", "p2"):
        _assert_absent(app, db, scene[who], [SECRET_FIRM, SECRET_FIRM_EN, OWNER_NAME], urls, api)


def test_search_by_the_owners_name_does_not_find_the_anonymous_need(app, db, scene):
    client = app.test_client()
    assert login(client, scene["p2"]).status_code == 302
    html = client.get(f"/needs/?q={SECRET_FIRM}").get_data(as_text=True)
    assert "匿名ニーズ" not in html


def test_unforwarded_proposal_hidden_from_the_owner(app, db, scene):
    need, prop = scene["need"], scene["proposal"]
    urls = [f"/needs/{need.id}", f"/proposals/need/{need.id}", f"/proposals/{prop.id}", f"/brokerage/case/{prop.id}",
            "/brokerage/inbox", "/dashboard", "/notifications", "/insight/", "/insight/export/proposals.csv",
            "/insight/export/meetings.csv", "/needs/mine", "/account/data.json"]
    api = ["/api/v1/proposals", f"/api/v1/proposals/{prop.id}", f"/api/v1/needs/{need.id}", "/api/v1/kpi"]
    _assert_absent(app, db, scene["owner"], [SECRET_PROPOSAL, scene["p1"].name], urls, api)


def test_a_proposal_hidden_from_competitors_and_other_bureaus(app, db, scene):
    need, prop = scene["need"], scene["proposal"]
    urls = [f"/needs/{need.id}", f"/proposals/need/{need.id}", f"/proposals/{prop.id}", f"/brokerage/case/{prop.id}",
            "/dashboard", "/proposals/mine", "/insight/export/proposals.csv", f"/proposals/{prop.id}/receipt",
            "/account/data.json"]
    api = ["/api/v1/proposals", f"/api/v1/proposals/{prop.id}"]
    _assert_absent(app, db, scene["p2"], [SECRET_PROPOSAL], urls, api)
    _assert_absent(app, db, scene["coord_other"], [SECRET_PROPOSAL],
                   urls + ["/brokerage/workspace", f"/brokerage/need/{need.id}"], api)


def test_controls_the_same_pages_do_show_them_to_those_allowed(app, db, scene, cast):
    """So that the absence checks above are not vacuous."""
    need = scene["need"]
    client = app.test_client()
    assert login(client, scene["owner"]).status_code == 302
    assert SECRET_FIRM in client.get(f"/needs/{need.id}").get_data(as_text=True)
    coord = cast.coordinator  # the need's bureau (Kanto)
    client = app.test_client()
    assert login(client, coord).status_code == 302
    assert SECRET_PROPOSAL in client.get(f"/proposals/need/{need.id}").get_data(as_text=True)
    client = app.test_client()
    assert login(client, scene["p1"]).status_code == 302
    assert SECRET_PROPOSAL in client.get("/proposals/mine").get_data(as_text=True)
    assert SECRET_PROPOSAL in client.get("/account/data.json").get_data(as_text=True)


# --- anonymity through the real path: files, aliases, history (issue 11) ------------------------------

def test_anonymous_need_published_through_the_pages_leaks_nothing(app, db, cast):
    """An owner posts an anonymous need with files full of its name in metadata; the coordinator
    publishes it; a proposer then walks every page, download and API answer of it. A second anonymous
    need of the same owner must not be findable through the first one's alias."""
    import io
    from datetime import date, timedelta

    from sqlalchemy import select

    from oims.models import Need

    from ..needs.identifying_files import (
        assert_name_absent,
        escaped_pdf,
        jpeg_with_exif,
        png_with_chunks,
        rich_pdf,
    )

    owner, coord, proposer = cast.owner, cast.coordinator, cast.proposer
    names = ("東都モビリティ", SECRET_FIRM_EN)
    owner_client, coord_client = app.test_client(), app.test_client()
    assert login(owner_client, owner).status_code == 302 and login(coord_client, coord).status_code == 302
    form = {"summary": "軽量化部材の共同開発パートナーを募集します。", "partnership_types": ["joint_rnd"],
            "deadline": (date.today() + timedelta(days=30)).isoformat(), "anonymous": "y", "action": "submit"}
    ids = []
    for title in ("匿名ニーズ第一", "匿名ニーズ第二"):
        files = [(io.BytesIO(rich_pdf(names)), f"{SECRET_FIRM}.pdf"), (io.BytesIO(escaped_pdf(SECRET_FIRM_EN)), "b.pdf"),
                 (io.BytesIO(jpeg_with_exif(SECRET_FIRM_EN)), "c.jpg"), (io.BytesIO(png_with_chunks(SECRET_FIRM_EN)), "d.png")]
        resp = owner_client.post("/needs/new", data=form | {"title": title, "attachments": files},
                                 content_type="multipart/form-data")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 302, body[body.find("<main"):][:3000]
        need = db.session.scalar(select(Need).where(Need.title == title))
        pub = {"pub-" + k: v for k, v in form.items() if k != "action"} | {"pub-title": title, "action": "publish"}
        assert coord_client.post(f"/needs/{need.id}/review", data=pub).status_code == 302
        ids.append(need.id)
    db.session.expire_all()
    first, second = (db.session.get(Need, i) for i in ids)
    assert first.status == second.status == "published" and first.alias != second.alias
    atts = list(db.session.scalars(select(Attachment).where(Attachment.need_id.in_(ids))))
    assert len(atts) == 8
    urls = [f"/needs/{first.id}", f"/needs/{first.id}/versions", "/needs/", f"/needs/?q={first.alias}",
            "/dashboard"] + [f"/needs/attachments/{a.id}" for a in atts]
    api = ["/api/v1/needs", f"/api/v1/needs/{first.id}"]
    _assert_absent(app, db, proposer, [SECRET_FIRM, SECRET_FIRM_EN, "東都モビリティ", OWNER_NAME], urls, api)
    client = app.test_client()
    assert login(client, proposer).status_code == 302
    for att in atts:
        assert_name_absent(client.get(f"/needs/attachments/{att.id}").data, names)
    for q in (first.alias, first.alias_en):
        html = client.get("/needs/", query_string={"q": q}).get_data(as_text=True)
        assert "匿名ニーズ第一" in html and "匿名ニーズ第二" not in html
