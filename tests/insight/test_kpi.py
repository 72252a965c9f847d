"""Every KPI figure against the hand-computed world of world.py.

Cohort (2026-04-01..06-30 JST): needs N1, N2, N3; proposals P1 (level 5),
P2 (2), P3 (3), P4 (4, by a held meeting + poc stage), P8 (1).
"""

from __future__ import annotations

from datetime import date

import pytest

from oims.insight.kpi import Scope, load_facts, report

from ..factories import login
from . import world

ALL = Scope(date(2026, 4, 1), date(2026, 6, 30))


@pytest.fixture
def w(factory, db):
    return world.build(factory, db)


def check_funnel_and_summary(w):
    r = report(load_facts(ALL))
    assert r["funnel"] == [
        {"stage": "needs", "count": 3, "rate": None},
        {"stage": "proposals", "count": 5, "rate": None},
        {"stage": "shortlisted", "count": 4, "rate": 0.8},
        {"stage": "met", "count": 3, "rate": 0.75},
        {"stage": "nda_poc", "count": 2, "rate": 0.6667},
        {"stage": "deal", "count": 1, "rate": 0.5},
    ]
    assert r["summary"] == {"needs": 3, "proposals": 5, "proposals_per_need": 1.67, "needs_with_proposal": 3,
                            "needs_with_proposal_rate": 1.0, "deal_rate": 0.2}


def check_period_edges_follow_japan_time(w):
    # P8 was submitted 06-30 23:00 JST (in), P9 07-01 00:00 JST (out) though both are 06-30 in UTC.
    ids = {p.id for p in load_facts(ALL).proposal_cohort}
    assert w["P8"].id in ids and w["P9"].id not in ids
    july = load_facts(Scope(date(2026, 7, 1), date(2026, 7, 31)))
    assert {p.id for p in july.proposal_cohort} == {w["P5"].id, w["P9"].id}
    assert july.need_cohort == []


def check_breakdowns(w):
    b = report(load_facts(ALL))["breakdowns"]
    assert b["bureau"] == [
        {"key": "chubu", "needs": 2, "proposals": 4, "shortlisted": 3, "meetings": 2, "nda_poc": 1, "deals": 1,
         "meeting_rate": 0.5},
        {"key": "kanto", "needs": 1, "proposals": 1, "shortlisted": 1, "meetings": 1, "nda_poc": 1, "deals": 0,
         "meeting_rate": 1.0},
    ]
    assert [(r["key"], r["needs"], r["proposals"]) for r in b["prefecture"]] == [("23", 2, 4), ("13", 1, 1)]
    assert [(r["key"], r["needs"], r["proposals"]) for r in b["industry"]] == [("E", 2, 4), ("G", 1, 1)]
    assert b["kind"] == [
        {"key": "sme", "needs": None, "proposals": 2, "shortlisted": 2, "meetings": 2, "nda_poc": 2, "deals": 1,
         "meeting_rate": 1.0},
        {"key": "startup", "needs": None, "proposals": 2, "shortlisted": 1, "meetings": 1, "nda_poc": 0,
         "deals": 0, "meeting_rate": 0.5},
        {"key": "university", "needs": None, "proposals": 1, "shortlisted": 1, "meetings": 0, "nda_poc": 0,
         "deals": 0, "meeting_rate": 0.0},
    ]
    assert [(r["key"], r["needs"], r["proposals"], r["meetings"]) for r in b["partnership"]] == [
        ("joint_rnd", 2, 4, 2), ("poc", 1, 3, 1), ("supply", 1, 1, 1)]


def check_time_measures(w):
    assert report(load_facts(ALL))["time_measures"] == [
        {"measure": "first_proposal", "needs": 3, "median_days": 3.0},   # N1 1, N2 3, N3 5
        {"measure": "first_shortlist", "needs": 2, "median_days": 5.0},  # N1 3, N2 7
        {"measure": "first_meeting", "needs": 2, "median_days": 12.5},   # N1 10, N2 15
    ]


def check_response_rates(w):
    # Due dates are all in May 2026, so "today" (after them) makes P4 overdue.
    today = date(2026, 11, 30)
    resp = report(load_facts(ALL), owner_label=lambda oid: f"org{oid}", today=today)["response"]
    assert resp["overall"] == {"forwarded": 4, "responded": 3, "response_rate": 0.75, "on_time": 2, "overdue": 1,
                               "pending": 0, "on_time_rate": 0.5, "median_days": 3.0}
    a, b = w["owner_a"].organisation_id, w["owner_b"].organisation_id
    assert resp["owners"] == [
        {"owner_org_id": a, "owner": f"org{a}", "forwarded": 3, "responded": 3, "response_rate": 1.0,
         "on_time": 2, "overdue": 0, "pending": 0, "on_time_rate": 0.6667, "median_days": 3.0},
        {"owner_org_id": b, "owner": f"org{b}", "forwarded": 1, "responded": 0, "response_rate": 0.0,
         "on_time": 0, "overdue": 1, "pending": 0, "on_time_rate": 0.0, "median_days": None},
    ]
    # Before P4's due date it is pending, not overdue: it does not count yet.
    early = report(load_facts(ALL), today=date(2026, 5, 1))["response"]["owners"][1]
    assert (early["overdue"], early["pending"], early["on_time_rate"]) == (0, 1, None)
    # The same definition as the brokerage's per-owner figure (all time, same today).
    from oims.brokerage.workspace import response_stats

    everything = report(load_facts(Scope()), owner_label=str, today=today)["response"]["owners"]
    for row in everything:
        theirs = response_stats(row["owner_org_id"], today)
        assert (row["forwarded"], row["responded"], row["on_time"], row["overdue"]) == (
            theirs["forwarded"], theirs["responded"], theirs["on_time"], theirs["overdue"])
        assert row["on_time_rate"] == theirs["on_time_rate"] and row["response_rate"] == theirs["response_rate"]


def check_regional_and_cross_regional(w):
    r = report(load_facts(ALL))
    assert r["regional"] == [
        {"rank": 1, "prefecture": "13", "proposals": 2, "share": 0.4, "meetings": 1, "deals": 0},
        {"rank": 2, "prefecture": "23", "proposals": 2, "share": 0.4, "meetings": 2, "deals": 1},
        {"rank": 3, "prefecture": "27", "proposals": 1, "share": 0.2, "meetings": 0, "deals": 0},
    ]
    assert r["cross_regional"] == {
        "proposals": 5, "cross_proposals": 4, "cross_share": 0.8, "meetings": 3, "cross_meetings": 2,
        "cross_meeting_share": 0.6667,
        "flows": [{"from_bureau": "kanto", "to_bureau": "chubu", "proposals": 2, "meetings": 1},
                  {"from_bureau": "chubu", "to_bureau": "kanto", "proposals": 1, "meetings": 1},
                  {"from_bureau": "kinki", "to_bureau": "chubu", "proposals": 1, "meetings": 0}],
    }


def check_matcher_usefulness(w):
    facts = load_facts(ALL)
    assert report(facts)["matcher"] == {
        "top_n": 10, "meetings": 3, "from_invitation": 2, "from_invitation_share": 0.6667, "from_top_n": 2,
        "from_top_n_share": 0.6667, "from_either": 3, "from_either_share": 1.0}
    one = report(facts, top_n=1)["matcher"]
    assert (one["from_top_n"], one["from_either"]) == (1, 3)


def check_bureau_scope(w):
    r = report(load_facts(Scope(date(2026, 4, 1), date(2026, 6, 30), bureau="chubu")))
    assert [row["count"] for row in r["funnel"]] == [2, 4, 3, 2, 1, 1]


def check_owner_scope_sees_only_forwarded_proposals_to_own_needs(w):
    scope = Scope(date(2026, 4, 1), date(2026, 6, 30), owner_org_id=w["owner_a"].organisation_id,
                  forwarded_only=True)
    r = report(load_facts(scope))
    assert [row["count"] for row in r["funnel"]] == [2, 3, 3, 2, 1, 1]  # P8 not forwarded
    assert [o["owner_org_id"] for o in r["response"]["owners"]] == [w["owner_a"].organisation_id]


def check_empty_period(w):
    r = report(load_facts(Scope(date(2020, 1, 1), date(2020, 1, 31))))
    assert [row["count"] for row in r["funnel"]] == [0, 0, 0, 0, 0, 0]
    assert r["summary"]["proposals_per_need"] is None and r["matcher"]["from_top_n_share"] is None


def test_every_kpi_figure_by_hand(w):
    """One world, every figure (building the world is the slow part)."""
    for check in (check_funnel_and_summary, check_period_edges_follow_japan_time, check_breakdowns,
                  check_time_measures, check_response_rates, check_regional_and_cross_regional,
                  check_matcher_usefulness, check_bureau_scope,
                  check_owner_scope_sees_only_forwarded_proposals_to_own_needs, check_empty_period):
        check(w)


# --- the page --------------------------------------------------------------------------

def test_dashboard_shows_tables_and_charts(client, w):
    login(client, w["admin"])
    resp = client.get("/insight/", query_string=world.PERIOD | {"bureau": "all"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for table in ("funnel", "bureau", "prefecture", "industry", "kind", "partnership", "time", "response",
                  "regional", "cross", "matcher"):
        assert f'id="table-{table}"' in html
    assert html.count("data-chart=") == 9
    assert 'id="kpi-needs">3<' in html and 'id="kpi-proposals">5<' in html
    assert "vendor/chart.umd.js" in html and "js/insight.js" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style
    assert "中部重工業株式会社" in html  # response table names owners for staff
    assert "/insight/export/kpi/funnel.csv?from=2026-04-01&amp;to=2026-06-30&amp;bureau=all" in html


def test_coordinator_defaults_to_own_bureau_and_may_choose(client, w):
    login(client, w["coord_kanto"])
    html = client.get("/insight/", query_string=world.PERIOD).get_data(as_text=True)
    assert 'id="kpi-needs">1<' in html and 'id="kpi-proposals">1<' in html
    html = client.get("/insight/", query_string=world.PERIOD | {"bureau": "all"}).get_data(as_text=True)
    assert 'id="kpi-needs">3<' in html
    html = client.get("/insight/", query_string=world.PERIOD | {"bureau": "chubu"}).get_data(as_text=True)
    assert 'id="kpi-needs">2<' in html


def test_need_owner_sees_own_needs_only_whatever_it_asks(client, w):
    login(client, w["owner_b"])
    html = client.get("/insight/", query_string=world.PERIOD | {"bureau": "all"}).get_data(as_text=True)
    assert 'id="kpi-needs">1<' in html and 'id="kpi-proposals">1<' in html
    assert "中部重工業株式会社" not in html


@pytest.mark.parametrize("role", ["proposer"])
def test_proposers_have_no_kpi(client, factory, role):
    login(client, factory.user(role))
    assert client.get("/insight/").status_code == 403
    assert client.get("/insight/export/kpi/funnel.csv").status_code == 403


def test_anonymous_visitor_is_sent_to_login(client):
    resp = client.get("/insight/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_bad_dates_are_a_400_with_messages(client, cast):
    login(client, cast.admin)
    resp = client.get("/insight/", query_string={"from": "2026-13-01", "to": "2026-01-01", "top_n": "²"})
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).count("invalid-feedback") >= 2


def test_dashboard_panel_shows_this_fiscal_year(client, cast, factory):
    from oims.insight.kpi import fiscal_year_start

    assert fiscal_year_start(date(2027, 3, 31)) == date(2026, 4, 1)
    assert fiscal_year_start(date(2026, 4, 1)) == date(2026, 4, 1)
    factory.need()  # published now: in this fiscal year
    login(client, cast.admin)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "/insight/?from=" in html
    login_proposer = cast.proposer
    client.post("/auth/logout")
    login(client, login_proposer)
    assert "/insight/?from=" not in client.get("/dashboard").get_data(as_text=True)
