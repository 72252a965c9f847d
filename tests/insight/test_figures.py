"""One definition of every figure (insight.figures), shown the same on every
surface: the coordinator's need page, the workspace, the KPI page, its CSV,
the API's /kpi and the proposer's badge on need pages and search results.

World (world.py), all time: owner A (中部重工業) got P1, P2, P3 forwarded and
answered all three (P3 after its due date): response rate 3/3 = 100.0 %,
on-time rate 2/3 = 66.7 %, median days (3, 2, 19) = 3.0. Owner B got P4
forwarded and never answered, past due: 0/1 = 0.0 %, overdue 1.
coord_chubu invited S1 to N1 (P1: contract) and S4 to N3 (P4: PoC after a held
meeting): 2 meetings held, 1 成約 (only a contract is a deal; NDA/PoC are not).
"""

from __future__ import annotations

import csv
import io
import re

from oims.api.auth import issue_token
from oims.insight.figures import badge_figures, owner_response, proposal_level

from ..factories import login, logout
from . import world

YEAR = {"from": "2026-01-01", "to": "2026-12-31", "bureau": "all"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_level_definition():
    assert proposal_level("meeting_scheduled") == 2  # scheduled is not held
    assert proposal_level("poc", (), True) == 4
    assert proposal_level("met", ("shortlisted", "met"), False) == 2  # "held" before it started
    assert proposal_level("declined", ("shortlisted", "met", "met", "nda")) == 4
    assert proposal_level("ended", ("poc", "contract")) == 5


def test_every_surface_shows_the_same_figures(client, factory, db):
    w = world.build(factory, db)
    a = owner_response(w["owner_a"].organisation_id)
    assert (a["forwarded"], a["responded"], a["response_rate"], a["on_time_rate"], a["median_days"]) == (
        3, 3, 1.0, 0.6667, 3.0)
    b = owner_response(w["owner_b"].organisation_id)
    assert (b["forwarded"], b["responded"], b["response_rate"], b["overdue"]) == (1, 0, 0.0, 1)

    # Coordinator's need page (the "100 % beside 11 forwarded, 7 answered" one).
    login(client, w["coord_chubu"])
    page = _text(client.get(f"/brokerage/need/{w['N2'].id}").get_data(as_text=True))
    assert "回答率: 100.0%" in page and "期限内回答率: 66.7%" in page and "3.0日" in page
    # Workspace: meetings held and 成約 by the same definition as the KPI funnel.
    page = _text(client.get("/brokerage/workspace").get_data(as_text=True))
    assert re.search(r"提案依頼 2 → 提案 2 → 面談 2 → 成約 1", page), page[:3000]
    logout(client)

    # KPI page, CSV and API (admin, whole year, every bureau).
    login(client, w["admin"])
    html = client.get("/insight/", query_string=YEAR).get_data(as_text=True)
    row = re.search(r'<tr><th scope="row">中部重工業株式会社</th>(.*?)</tr>', html).group(1)
    assert re.findall(r">([^<]*)</td>", row) == ["3", "3", "100.0%", "2", "0", "66.7%", "3.0"]
    assert "成約に至った提案" in html
    rows = list(csv.reader(io.StringIO(
        client.get("/insight/export/kpi/response.csv", query_string=YEAR).get_data(as_text=True).lstrip("\ufeff"))))
    mine = next(r for r in rows if r[0] == "中部重工業株式会社")
    assert mine[1:4] == ["3", "3", "100.0"] and mine[7:9] == ["66.7", "3.0"]
    funnel = {r[0]: r[1] for r in csv.reader(io.StringIO(client.get(
        "/insight/export/kpi/funnel.csv", query_string=YEAR).get_data(as_text=True).lstrip("\ufeff")))}
    assert funnel["成約"] == "1" and funnel["面談"] == "3"
    token, _row = issue_token(w["admin"], "h10")
    db.session.commit()
    body = client.get("/api/v1/kpi", query_string=YEAR, headers={"Authorization": f"Bearer {token}"}).get_json()
    api_a = next(r for r in body["response"]["owners"] if r["owner_org_id"] == w["owner_a"].organisation_id)
    assert {k: api_a[k] for k in a} == a
    assert [r["count"] for r in body["funnel"] if r["stage"] in ("met", "deal")] == [3, 1]
    logout(client)

    # Proposer: the badge on the need page and in search results.
    login(client, w["proposers"]["S4"])
    page = _text(client.get(f"/needs/{w['N2'].id}").get_data(as_text=True))
    assert "ニーズ企業の回答率 100.0% (3件中3件) · 回答までの日数（中央値） 3.0日" in page
    page = _text(client.get("/needs/", query_string={"q": "N2"}).get_data(as_text=True))
    assert "ニーズ企業の回答率 100.0% (3件中3件)" in page
    page = _text(client.get("/needs/", query_string={"q": "N3"}).get_data(as_text=True))
    assert "ニーズ企業の回答率 0.0% (1件中0件)" in page


def test_anonymous_need_badge_is_per_need(client, factory, db):
    w = world.build(factory, db, anonymous_n1=True)
    figs = badge_figures([w["N1"], w["N2"]])
    # N1 alone: P1 (3 days), P2 (2 days); N2 (named) over the owner: P1, P2, P3.
    assert (figs[w["N1"].id]["forwarded"], figs[w["N1"].id]["median_days"]) == (2, 2.5)
    assert (figs[w["N2"].id]["forwarded"], figs[w["N2"].id]["median_days"]) == (3, 3.0)
    login(client, w["proposers"]["S4"])
    page = _text(client.get(f"/needs/{w['N1'].id}").get_data(as_text=True))
    assert "このニーズへの回答率 100.0% (2件中2件)" in page and "中部重工業" not in page
