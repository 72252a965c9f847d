"""Calibrated bands on the coordinator's pages and the API, judgment marks
(stored, access-checked), judgments from decisions, their export as qrels read
back by the matcher's own evaluate reader, and precision by band on the KPI page.
Real matcher (the packaged USE encoder), real database, HTTP test client."""

from __future__ import annotations

import re

from sqlalchemy import select

from matching.evaluation import read_qrels
from oims.core.reference import DECLINE_REASON_BY_CODE
from oims.extensions import db as _db
from oims.matcher.bands import calibrate, fallback_probability
from oims.models import Judgment

from ..factories import login, logout
from .conftest import REAL_NEED, using

CFRP_PROFILE = "炭素繊維強化樹脂（CFRP）の射出成形とプレス成形で自動車部品を量産しています。軽量化部材の設計から試作まで対応します。"
FOOD = {"title": "食品包装ラインの衛生管理", "summary": "食品工場の包装ラインを衛生的に保つ清掃手順を提案します。",
        "solution": "HACCPに基づく清掃計画を作ります。", "track_record": "食品工場20社の支援実績。"}


def _bands(html: str) -> dict[int, tuple[str, str]]:
    """proposal id -> (band, shown text) from the ranked table."""
    out = {}
    for row in re.findall(r'data-testid="ranked-proposal" data-proposal-id="(\d+)">(.*?)</tr>', html, re.DOTALL):
        m = re.search(r'data-band="(\w+)"[^>]*>([^<]+)</span>', row[1])
        if m:
            out[int(row[0])] = (m.group(1), m.group(2).strip())
    return out


def test_calibration_helper_is_absolute_and_monotone():
    scores = [x / 20 for x in range(-10, 30)]
    probs = [fallback_probability(s, "use") for s in scores]
    assert probs == sorted(probs)
    # Not relative to the best: a lone weak candidate stays weak.
    assert calibrate(0.1).band == "low"
    # e5 on the demo data: a forwarded proposal (0.93) is medium+, an unrelated one (0.81) low;
    # capability profiles sit on their own, narrower scale.
    assert fallback_probability(0.93, "e5") >= 0.5 and fallback_probability(0.81, "e5") < 0.1
    assert fallback_probability(0.886, "e5", "orgs") >= 0.6 and fallback_probability(0.835, "e5", "orgs") < 0.2
    # The matcher's own calibration wins when present.
    r = type("R", (), {"score": 0.1, "probability": 0.83, "band": "high"})()
    fit = calibrate(r)
    assert (fit.probability, fit.band, fit.percent) == (0.83, "high", 83)


def test_bands_on_the_need_page_and_a_weak_best_candidate_looks_weak(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        coord = factory.user("coordinator")
        need = factory.need(**REAL_NEED)  # a need as long as real ones (the matcher's long-query mode)
        food = factory.proposal(need, **FOOD)  # the only proposal, and unrelated
        login(client, coord)
        html = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
        bands = _bands(html)
        assert bands[food.id][0] == "low", bands
        assert bands[food.id][1].startswith("低 ") and bands[food.id][1].endswith("%")
        assert "100%" not in bands[food.id][1]  # the old "relative to the best" figure
        good = factory.proposal(need)  # CFRP moulding, answers the need
        html = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
        bands = _bands(html)
        assert bands[good.id][0] in ("high", "medium") and bands[food.id][0] == "low"
        # API: probability and band next to the raw score.
        from oims.api.auth import issue_token

        token, _row = issue_token(coord, "t")
        _db.session.commit()
        body = client.get(f"/api/v1/needs/{need.id}/matches",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        item = {i["proposal_id"]: i for i in body["items"]}
        assert item[food.id]["band"] == "low" and 0 <= item[food.id]["probability"] < 0.3
        assert item[good.id]["probability"] > item[food.id]["probability"]


def test_marks_are_stored_replaced_and_access_checked(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        coord = factory.user("coordinator")
        other_coord = factory.user("coordinator", prefecture="27")  # Kinki
        proposer = factory.user("proposer")
        need = factory.need()
        other_need = factory.need()
        prop = factory.proposal(need, proposer)
        foreign = factory.proposal(other_need)
        org = factory.org(kind="sme", prefecture="09", profile=CFRP_PROFILE)
        _db.session.commit()
        url = f"/matching/need/{need.id}/judge"

        for who in (proposer, other_coord):
            login(client, who)
            assert client.post(url, data={"kind": "proposal", "target_id": prop.id, "relevant": "1"}).status_code == 404
            logout(client)
        signed_out = client.post(url, data={"kind": "proposal", "target_id": prop.id, "relevant": "1"})
        assert signed_out.status_code == 302 and "/auth/login" in signed_out.headers["Location"]
        assert _db.session.scalar(select(Judgment.id)) is None

        login(client, coord)
        # A proposal to another need is not a candidate of this one.
        assert client.post(url, data={"kind": "proposal", "target_id": foreign.id, "relevant": "1"}).status_code == 404
        bad = client.post(url, data={"kind": "proposal", "target_id": prop.id, "relevant": "maybe"})
        assert bad.status_code == 400 and "評価は保存されませんでした" in bad.get_data(as_text=True)
        assert _db.session.scalar(select(Judgment.id)) is None

        r = client.post(url, data={"kind": "proposal", "target_id": prop.id, "relevant": "1"})
        assert r.status_code == 302
        row = _db.session.scalars(select(Judgment)).one()
        assert (row.source, row.relevance, row.target_kind, row.org_id) == ("mark", 1.0, "proposal", prop.org_id)
        assert row.probability is not None and row.band in ("high", "medium", "low") and row.user_id == coord.id
        client.post(url, data={"kind": "proposal", "target_id": prop.id, "relevant": "0"})
        _db.session.expire_all()
        row = _db.session.scalars(select(Judgment)).one()  # replaced, not added
        assert row.relevance == 0.0
        client.post(url, data={"kind": "org", "target_id": org.id, "relevant": "1"})
        html = client.get(f"/brokerage/need/{need.id}?bureau=").get_data(as_text=True)
        assert 'data-judged="not-relevant"' in html and 'data-judged="relevant"' in html
        assert {(j.target_kind, j.target_id) for j in _db.session.scalars(select(Judgment))} == {
            ("proposal", prop.id), ("org", org.id)}
        # An organisation that cannot propose (the need owner's firm) cannot be judged.
        assert client.post(url, data={"kind": "org", "target_id": need.owner_org_id, "relevant": "1"}).status_code == 404


def test_decisions_become_judgments_and_export_reads_back(matching_app, factory, tmp_path):
    from oims.brokerage import services, shortlist
    from oims.matcher.bands import calibrate as cal

    app = matching_app()
    with using(app):
        coord = factory.user("coordinator")
        need = factory.need()
        good = factory.proposal(need)
        food = factory.proposal(need, **FOOD)
        org = factory.org(kind="sme", prefecture="09", profile=CFRP_PROFILE)
        _db.session.commit()
        shortlist.invite_org(need, org, actor=coord, score=0.9, rank=1)
        shortlist.forward_shortlist(need, [good, food], actor=coord, comment="ご確認ください",
                                   fits={good.id: cal(0.95)})
        _db.session.commit()
        owner = _db.session.get(type(coord), need.created_by_id)
        services.request_meeting(good, actor=owner)
        services.decline_case(food, actor=owner, reason=next(iter(DECLINE_REASON_BY_CODE)))
        _db.session.commit()
        sources = {(j.target_id, j.source) for j in _db.session.scalars(select(Judgment))}
        assert {(org.id, "invite"), (good.id, "shortlist"), (food.id, "shortlist"), (good.id, "meeting"),
                (food.id, "declined")} <= sources

        out, corpus, queries = tmp_path / "q.tsv", tmp_path / "c.jsonl", tmp_path / "qs.jsonl"
        result = app.test_cli_runner().invoke(args=["oims", "export-judgments", "--out", str(out),
                                                    "--corpus", str(corpus), "--queries", str(queries)])
        assert result.exit_code == 0, result.output
        qrels = read_qrels(out)
        assert qrels == {f"need-{need.id}": {f"proposal-{good.id}": 2.0, f"proposal-{food.id}": 0.0,
                                             f"org-{org.id}": 1.0}}
        # The matcher's evaluate command reads the three files as they are.
        from matching.cli import main

        assert main(["evaluate", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(out),
                     "--encoder", "use", "--quiet"]) == 0


def test_kpi_page_shows_precision_by_band(matching_app, factory):
    from oims.matcher.bands import Calibrated
    from oims.matchfeed.judgments import record

    app = matching_app()
    with using(app):
        client = app.test_client()
        coord = factory.user("coordinator")
        need = factory.need()
        props = [factory.proposal(need) for _ in range(3)]
        record(need, props[0], "mark", actor=coord, relevance=1, fit=Calibrated(0.8, "high"))
        record(need, props[1], "mark", actor=coord, relevance=0, fit=Calibrated(0.7, "high"))
        record(need, props[2], "mark", actor=coord, relevance=0, fit=Calibrated(0.1, "low"))
        _db.session.commit()
        login(client, coord)
        html = client.get("/insight/").get_data(as_text=True)
        table = html[html.index('id="table-judged"'):]
        table = table[:table.index("</table>")]
        high = re.search(r'data-band="high">.*?judged-precision">([^<]+)<', table, re.DOTALL).group(1)
        low = re.search(r'data-band="low">.*?judged-precision">([^<]+)<', table, re.DOTALL).group(1)
        assert (high, low) == ("50%", "0%")


def test_needs_for_you_shows_bands_and_leaves_out_closed_and_own_needs(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        org = factory.org(kind="sme", prefecture="09", profile=CFRP_PROFILE, technologies=["CFRP射出成形"])
        proposer = factory.user("proposer", org=org)
        colleague = factory.user("need_owner", org=org)  # the same firm also posts a need
        open_need = factory.need()
        past = factory.need(deadline_days=-1)  # still "published": the closing job has not run
        own = factory.need(owner=colleague)
        _db.session.commit()
        login(client, proposer)
        html = client.get("/dashboard").get_data(as_text=True)
        panel = html[html.index("panel-needs-for-you"):]
        panel = panel[:panel.index("</ol>")] if "</ol>" in panel else panel
        assert f"/needs/{open_need.id}" in panel
        assert f"/needs/{past.id}" not in panel and f"/needs/{own.id}" not in panel
        assert re.search(r'data-band="(high|medium|low)"[^>]*>(高|中|低) \d+%<', panel)
