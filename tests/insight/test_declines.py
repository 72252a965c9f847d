"""Declines that teach, through HTTP: a bureau's decline reasons by the
proposer's industry and prefecture, and a proposer's own reasons by quarter."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from oims.models import ProposalEvent

from ..factories import login


def _client(app, user):
    c = app.test_client()
    assert login(c, user).status_code == 302
    return c


def _cells(html: str, section: str) -> dict:
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    out = {}
    for key, body in re.findall(r'<tr data-key="([\w-]+)">(.*?)</tr>', part, re.S):
        for reason, n in re.findall(r'<td data-reason="(\w*)">(\d+)</td>', body):
            out[(key, reason)] = int(n)
    return out


def _world(factory, db):
    coord = factory.user("coordinator", prefecture="13")
    owner = factory.user("need_owner", org=factory.org(kind="large", prefecture="13"))
    owner_k = factory.user("need_owner", org=factory.org(kind="large", prefecture="27"))
    tokyo_e = factory.user("proposer", org=factory.org(kind="sme", prefecture="13", industry="E"))
    kana_g = factory.user("proposer", org=factory.org(kind="sme", prefecture="14", industry="G"))
    need, need2, need_k = factory.need(owner=owner), factory.need(owner=owner), factory.need(owner=owner_k)
    props = {
        "a": factory.proposal(need, proposer=tokyo_e, stage="screening"),
        "b": factory.proposal(need2, proposer=tokyo_e, stage="screening"),
        "c": factory.proposal(need, proposer=kana_g, stage="screening"),
        "k": factory.proposal(need_k, proposer=tokyo_e, stage="screening"),
    }
    return coord, tokyo_e, kana_g, props


def _decline(client, proposal, reason, note=""):
    resp = client.post(f"/proposals/{proposal.id}/decline", data={"reason": reason, "note": note})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]


def test_bureau_decline_reasons_by_industry_and_prefecture(app, db, cast, factory):
    coord, _tokyo_e, _kana_g, p = _world(factory, db)
    coord_k = cast.other_coordinator
    c = _client(app, coord)
    _decline(c, p["a"], "tech_mismatch")
    _decline(c, p["b"], "cost")
    _decline(c, p["c"], "tech_mismatch")
    _decline(_client(app, coord_k), p["k"], "schedule")  # Kinki's need: not in Kanto's table
    html = c.get("/insight/declines").get_data(as_text=True)
    assert _cells(html, "declines-industry") == {("E", "tech_mismatch"): 1, ("E", "cost"): 1,
                                                 ("G", "tech_mismatch"): 1, ("G", "cost"): 0}
    assert _cells(html, "declines-prefecture") == {("13", "tech_mismatch"): 1, ("13", "cost"): 1,
                                                   ("14", "tech_mismatch"): 1, ("14", "cost"): 0}
    assert "技術的な適合性が低い" in html and "神奈川県" in html
    rows = list(csv.reader(io.StringIO(c.get("/insight/declines.csv").get_data().decode("utf-8-sig"))))
    assert rows[0] == ["dimension", "code", "label", "reason_code", "reason", "declined"]
    assert ["industry", "G", "情報通信業", "tech_mismatch", "技術的な適合性が低い", "1"] in rows
    assert not any(r[3] == "schedule" for r in rows[1:])
    kinki = c.get("/insight/declines?bureau=kinki").get_data(as_text=True)
    assert _cells(kinki, "declines-industry") == {("E", "schedule"): 1}
    assert c.get("/insight/declines?bureau=nowhere").status_code == 400


def test_proposer_sees_its_own_reasons_by_quarter(app, db, factory):
    coord, tokyo_e, kana_g, p = _world(factory, db)
    c = _client(app, coord)
    _decline(c, p["a"], "tech_mismatch")
    _decline(c, p["b"], "cost")
    _decline(c, p["c"], "tech_mismatch")
    # Move the declines in time: a in 2026-Q1 (31 Mar 20:00 JST), b in 2026-Q2 (31 Mar 15:30 UTC = 1 Apr JST).
    for key, at in (("a", datetime(2026, 3, 31, 11, tzinfo=UTC)), ("b", datetime(2026, 3, 31, 15, 30, tzinfo=UTC))):
        ev = db.session.scalar(db.select(ProposalEvent).where(ProposalEvent.proposal_id == p[key].id,
                                                              ProposalEvent.to_stage == "declined"))
        ev.created_at = at
    db.session.commit()
    html = _client(app, tokyo_e).get("/proposals/mine").get_data(as_text=True)
    assert _cells(html, "my-decline-reasons") == {("2026-Q1", "tech_mismatch"): 1, ("2026-Q1", "cost"): 0,
                                                  ("2026-Q2", "tech_mismatch"): 0, ("2026-Q2", "cost"): 1}
    # Another proposer sees only its own: one tech_mismatch, in the current quarter.
    other = _cells(_client(app, kana_g).get("/proposals/mine").get_data(as_text=True), "my-decline-reasons")
    assert list(other.values()) == [1] and list(other)[0][1] == "tech_mismatch"
    for who in (tokyo_e, kana_g):
        assert _client(app, who).get("/insight/declines").status_code == 403
