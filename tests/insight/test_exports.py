"""CSV exports: BOM + UTF-8, Japanese intact through Python's csv, and never
more than the viewer may see (anonymous owners, other proposers' proposals)."""

from __future__ import annotations

import csv
import io

import pytest

from ..factories import login, logout
from . import world


@pytest.fixture
def w(factory, db):
    w = world.build(factory, db, anonymous_n1=True)
    w["P1"].owner_disclosed = True  # S1 met the owner of N1
    db.session.commit()
    return w


def read_csv(resp) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_kpi_tables_round_trip(client, w):
    login(client, w["admin"])
    q = world.PERIOD | {"bureau": "all"}
    rows = read_csv(client.get("/insight/export/kpi/funnel.csv", query_string=q))
    assert [r[1] for r in rows[1:]] == ["3", "5", "4", "3", "2", "1"]
    assert rows[3][2] == "80.0"
    rows = read_csv(client.get("/insight/export/kpi/regional.csv", query_string=q))
    assert rows[1][:4] == ["1", "13", "東京都", "2"] and rows[2][2] == "愛知県"
    rows = read_csv(client.get("/insight/export/kpi/response.csv", query_string=q))
    assert rows[2][0] == "中部重工業株式会社" and rows[2][1:3] == ["3", "3"]
    rows = read_csv(client.get("/insight/export/kpi/bureau.csv", query_string=q))
    assert rows[1][:4] == ["chubu", "中部経済産業局", "2", "4"]
    for name in ("prefecture", "industry", "kind", "partnership", "time", "cross_regional", "matcher"):
        assert len(read_csv(client.get(f"/insight/export/kpi/{name}.csv", query_string=q))) >= 2
    assert client.get("/insight/export/kpi/nope.csv").status_code == 404


    logout(client)
    login(client, w["owner_b"])
    rows = read_csv(client.get("/insight/export/kpi/response.csv", query_string=world.PERIOD | {"bureau": "all"}))
    assert [r[0] for r in rows[2:]] == ["東京情報通信株式会社"]


def test_needs_export_hides_anonymous_owner_from_proposers(client, w):
    login(client, w["proposers"]["S2"])  # proposed to N1, owner not disclosed to it
    rows = read_csv(client.get("/insight/export/needs.csv"))
    by_title = {r[1]: r for r in rows[1:]}
    n1 = by_title[w["N1"].title]
    assert n1[2] == w["N1"].alias
    assert "中部重工業株式会社" not in "".join(",".join(r) for r in rows if r[0] == str(w["N1"].id))
    assert w["N5"].title not in by_title  # someone else's draft
    assert by_title[w["N2"].title][2] == "中部重工業株式会社"  # N2 is not anonymous


    logout(client)
    login(client, w["proposers"]["S1"])
    rows = read_csv(client.get("/insight/export/needs.csv"))
    assert {r[1]: r[2] for r in rows[1:]}[w["N1"].title] == "中部重工業株式会社"


def test_proposals_export_shows_only_own_proposals_to_proposers(client, w):
    login(client, w["proposers"]["S1"])
    rows = read_csv(client.get("/insight/export/proposals.csv"))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted([w["P1"].id, w["P5"].id])
    text = "\n".join(",".join(r) for r in rows)
    assert "大阪工業大学" not in text and "P2 提案" not in text


    logout(client)
    login(client, w["owner_a"])
    rows = read_csv(client.get("/insight/export/proposals.csv"))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted([w["P1"].id, w["P2"].id, w["P3"].id])
    assert {r[3] for r in rows[1:]} == {"中部重工業株式会社"}  # its own name, even for the anonymous N1


def test_meetings_export(client, w):
    login(client, w["proposers"]["S4"])
    rows = read_csv(client.get("/insight/export/meetings.csv"))
    assert [int(r[1]) for r in rows[1:]] == [w["P4"].id]
    assert rows[1][4] == "名古屋樹脂成形株式会社" and rows[1][5] == "held"
    logout(client)
    login(client, w["proposers"]["S2"])
    assert len(read_csv(client.get("/insight/export/meetings.csv"))) == 1  # header only


def test_cells_cannot_become_formulas(client, factory):
    need = factory.need(title="=HYPERLINK(\"http://evil\")")
    login(client, factory.user("proposer"))
    rows = read_csv(client.get("/insight/export/needs.csv"))
    assert {r[1] for r in rows[1:] if r[0] == str(need.id)} == {"'=HYPERLINK(\"http://evil\")"}


def test_list_exports_need_login(client):
    assert client.get("/insight/export/needs.csv").status_code == 302
    assert client.get("/insight/export/other.csv").status_code == 302
