"""Regional strength through HTTP on a small world whose 特化係数 are worked
out by hand.

Proposer organisations (active, proposer kinds) in Japan, N = 9:
    Tokyo 13 (Kanto):     E, E, G         n = 3   (+ a disabled G firm: not counted)
    Kanagawa 14 (Kanto):  G               n = 1
    Aichi 23 (Chubu):     E, E, E, L      n = 4
    Osaka 27 (Kinki):     E               n = 1
    N(E) = 6, N(G) = 2, N(L) = 1
    LQ(13, E) = (2/3) / (6/9) = 1.00      LQ(13, G) = (1/3) / (2/9) = 1.50
    LQ(14, G) = (1/1) / (2/9) = 4.50      LQ(14, E) = 0.00
    Kanto (n = 4): E (2/4)/(6/9) = 0.75,  G (2/4)/(2/9) = 2.25,  L 0.00
    Saitama 11 (no firms): no coefficient (—)

Proposals (not drafts), N = 3: Tokyo E 1, Kanagawa G 1, Aichi E 1 (+ an Aichi L draft).
    N(E) = 2, N(G) = 1
    LQ(13, E) = (1/1)/(2/3) = 1.50,  LQ(14, G) = (1/1)/(1/3) = 3.00
    Kanto (n = 2): E (1/2)/(2/3) = 0.75,  G (1/2)/(1/3) = 1.50

Kanto needs (published) by owner industry: E: n1 (3 proposals), n2 (none) ->
2 needs, 1 unanswered, 2 local E firms (1.00 per need); G: n3 (a draft only)
-> 1 need, 1 unanswered, 2 local G firms (2.00). A draft need and a Chubu
need do not count.
"""

from __future__ import annotations

import csv
import io
import re

from ..factories import login


def _client(app, user):
    c = app.test_client()
    assert login(c, user).status_code == 302
    return c


def _world(factory, db):
    def firm(pref, ind, **kw):
        return factory.user("proposer", org=factory.org(kind="sme", prefecture=pref, industry=ind, **kw))

    t_e1, _t_e2, _t_g = firm("13", "E"), firm("13", "E"), firm("13", "G")
    firm("13", "G", status="disabled")
    k_g = firm("14", "G")
    a_e1, _a_e2, _a_e3, a_l = firm("23", "E"), firm("23", "E"), firm("23", "E"), firm("23", "L")
    firm("27", "E")
    owner_e = factory.user("need_owner", org=factory.org(kind="large", prefecture="13", industry="E"))
    owner_g = factory.user("need_owner", org=factory.org(kind="large", prefecture="13", industry="G"))
    owner_chubu = factory.user("need_owner", org=factory.org(kind="large", prefecture="23", industry="E"))
    n1 = factory.need(owner=owner_e)
    factory.need(owner=owner_e)
    n3 = factory.need(owner=owner_g)
    factory.need(owner=owner_e, status="draft")
    factory.need(owner=owner_chubu)
    factory.proposal(n1, proposer=t_e1)
    factory.proposal(n1, proposer=k_g, stage="declined")
    factory.proposal(n1, proposer=a_e1, stage="shortlisted")
    factory.proposal(n3, proposer=a_l, stage="draft")
    return {"coord": factory.user("coordinator", prefecture="13"), "admin": factory.user("admin"),
            "owner": owner_e, "proposer": t_e1}


def _cells(html: str, section: str) -> dict:
    part = html.split(f'id="strength-{section}"', 1)[1].split("</section>", 1)[0]
    heat = part.split('data-testid="heatmap"', 1)[1].split("</table>", 1)[0]
    return {(r, i): v for r, i, v in re.findall(r'data-row="(\w+)" data-industry="(\w)">([^<]*)<', heat)}


def test_specialisation_coefficients_by_hand(app, db, factory):
    w = _world(factory, db)
    html = _client(app, w["coord"]).get("/insight/strength").get_data(as_text=True)
    orgs = _cells(html, "orgs")
    assert orgs[("13", "E")] == "1.00" and orgs[("13", "G")] == "1.50"
    assert orgs[("14", "G")] == "4.50" and orgs[("14", "E")] == "0.00"
    assert orgs[("bureau", "E")] == "0.75" and orgs[("bureau", "G")] == "2.25" and orgs[("bureau", "L")] == "0.00"
    assert orgs[("11", "E")] == "—"
    assert ("23", "E") not in orgs  # Chubu's prefectures are not rows of the Kanto view
    props = _cells(html, "proposals")
    assert props[("13", "E")] == "1.50" and props[("14", "G")] == "3.00"
    assert props[("bureau", "E")] == "0.75" and props[("bureau", "G")] == "1.50"
    assert ("bureau", "L") not in props  # the only L proposal is a draft
    # Colour classes, no inline styles.
    assert 'class="lq-5" data-row="14" data-industry="G"' in html
    assert 'class="lq-3" data-row="13" data-industry="E"' in html
    assert "style=" not in html.split("<main", 1)[-1]


def test_gap_table_and_csv(app, db, factory):
    w = _world(factory, db)
    c = _client(app, w["coord"])
    html = c.get("/insight/strength").get_data(as_text=True)
    gap = html.split('id="strength-gap"', 1)[1]
    rows = re.findall(r'data-industry="(\w)">\s*<td>[^<]*</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>\s*<td>([^<]*)</td>', gap)
    assert rows == [("E", "2", "1", "2", "1.00"), ("G", "1", "1", "2", "2.00")]
    resp = c.get("/insight/strength/gap.csv")
    data = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert data[0][0] == "industry_code" and [r[0] for r in data[1:]] == ["E", "G"] and data[1][2:5] == ["2", "1", "2"]
    resp = c.get("/insight/strength/orgs.csv")
    assert resp.mimetype == "text/csv"
    rows = {(r[0], r[2]): r for r in csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig")))}
    assert rows[("14", "G")][4:] == ["1", "1", "2", "9", "4.50"]
    assert rows[("bureau", "E")][4:] == ["2", "4", "6", "9", "0.75"]
    # Another bureau on request (as on the KPI page); a bad one is a clear 400.
    chubu = _cells(c.get("/insight/strength?bureau=chubu").get_data(as_text=True), "orgs")
    assert chubu[("23", "L")] == "2.25"  # (1/4) / (1/9)
    bad = c.get("/insight/strength?bureau=atlantis")
    assert bad.status_code == 400 and "不明な経済産業局です。" in bad.get_data(as_text=True)
    assert c.get("/insight/strength/orgs.csv?bureau=atlantis").status_code == 400
    assert c.get("/insight/strength/other.csv").status_code == 404


def test_only_staff(app, db, factory):
    w = _world(factory, db)
    assert _client(app, w["admin"]).get("/insight/strength?bureau=kanto").status_code == 200
    for who in ("owner", "proposer"):
        c = _client(app, w[who])
        assert c.get("/insight/strength").status_code == 403
        assert c.get("/insight/strength/orgs.csv").status_code == 403


def test_english(app, db, factory):
    w = _world(factory, db)
    c = _client(app, w["coord"])
    c.post("/lang/en")
    html = c.get("/insight/strength").get_data(as_text=True)
    assert "Specialisation coefficient" in html and "Kanagawa" in html and "Where needs go unanswered" in html
    assert "特化係数" not in html.split("<main", 1)[-1]
    assert "Audit trail" in c.get("/audit/").get_data(as_text=True)
    assert "Decline reasons" in c.get("/insight/declines").get_data(as_text=True)
