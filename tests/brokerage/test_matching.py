"""The matcher inside the app (real encoder: the packaged multilingual USE,
loaded once per process): ranking with reasons, recommendations with filters,
index consistency, crash repair, several processes following one database,
encoder unavailable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from oims.extensions import db as _db
from oims.matcher import service as ms
from oims.models import MatchChange, Proposal

from ..factories import login, logout
from .conftest import using

CFRP_PROFILE = "炭素繊維強化樹脂（CFRP）の射出成形とプレス成形で自動車部品を量産しています。軽量化部材の設計から試作まで対応します。"
FOOD_PROFILE = "食品工場向けの包装機械と衛生管理（HACCP）のコンサルティングを行っています。"


def _queue() -> int:
    """Changes the encoding worker has not handled yet."""
    return ms.service().pending(_db.session)


def _order(html: str, attr: str) -> list[int]:
    return [int(x) for x in re.findall(rf'{attr}="(\d+)"', html)]


def test_ranking_reasons_and_filtered_recommendations(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        owner = factory.user("need_owner")
        coord = factory.user("coordinator")
        need = factory.need(owner=owner)
        food = factory.proposal(need, title="食品包装ラインの衛生管理",
                                summary="食品工場の包装ラインを衛生的に保つ清掃手順を提案します。",
                                solution="HACCPに基づく清掃計画を作ります。", track_record="食品工場20社の支援実績。")
        cfrp = factory.proposal(need)  # the factory's proposal is about CFRP moulding, like the need
        english = factory.proposal(
            need, title="Lightweight carbon-fibre parts for electric vehicles",
            summary="We mould carbon fibre reinforced plastic parts that replace aluminium and cut weight by 40%.",
            solution="High-speed press moulding of CFRP with our own mould temperature control.",
            track_record="Ten years of mass production of composite automotive parts.")
        near = factory.org(kind="sme", prefecture="09", profile=CFRP_PROFILE, technologies=["CFRP射出成形"])
        far = factory.org(kind="sme", prefecture="23", profile=CFRP_PROFILE, certifications=["IATF 16949"])
        factory.org(kind="sme", prefecture="13", profile=FOOD_PROFILE)
        _db.session.commit()
        assert _queue() == 0  # every commit was indexed straight away

        login(client, coord)
        html = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
        order = _order(html, "data-proposal-id")
        assert order[0] == cfrp.id and order.index(english.id) < order.index(food.id)  # cross-lingual
        assert "<mark>" in html  # the parts of the proposal that answer the need
        assert 'data-matching="catching-up"' not in html
        # Default filter: the need's bureau (Kantō) — the Aichi firm is left out by the search itself.
        recs = _order(html, "data-org-id")
        assert recs[0] == near.id and far.id not in recs
        html = client.get(f"/brokerage/need/{need.id}?bureau=&prefecture=23").get_data(as_text=True)
        assert _order(html, "data-org-id") == [far.id]
        html = client.get(f"/brokerage/need/{need.id}?bureau=&certifications=IATF+16949").get_data(as_text=True)
        assert _order(html, "data-org-id") == [far.id]
        # Organisations that proposed are never recommended.
        assert cfrp.org_id not in _order(client.get(f"/brokerage/need/{need.id}?bureau=").get_data(as_text=True),
                                         "data-org-id")


def test_index_follows_create_edit_withdraw_and_unpublish(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        svc = ms.service(app)
        proposer = factory.user("proposer")
        need = factory.need()
        prop = factory.proposal(need, proposer)
        assert prop.id in svc.matcher("proposals").ids() and need.id in svc.matcher("needs").ids()
        old_hash = svc.matcher("proposals").meta(prop.id)["h"]

        prop.summary = "全く新しい説明：金属3Dプリンタによる一体造形を提案します。"
        _db.session.commit()
        assert svc.matcher("proposals").meta(prop.id)["h"] != old_hash
        assert _queue() == 0

        login(client, proposer)
        r = client.post(f"/proposals/{prop.id}/withdraw", data={"note": "社内事情"})
        assert r.status_code == 302
        _db.session.expire_all()
        assert _db.session.get(Proposal, prop.id).stage == "withdrawn"
        assert prop.id not in svc.matcher("proposals").ids()
        logout(client)

        need.status = "closed"
        _db.session.commit()
        assert need.id not in svc.matcher("needs").ids()
        assert _queue() == 0


def test_crash_between_commit_and_index_is_repaired_on_restart(matching_app, factory, monkeypatch):
    worker_a = matching_app()
    with using(worker_a):
        need = factory.need()
        first = factory.proposal(need)
        assert first.id in ms.service(worker_a).matcher("proposals").ids()

        # A second process on the same database has built its index from the stored vectors...
        worker_b = matching_app()
        assert first.id in ms.service(worker_b).matcher("proposals").ids()

        # ...the first process "crashes" after the commit, before encoding.
        from oims.matcher.worker import IndexWorker

        def crash(self, session, **kw):
            raise RuntimeError("killed between the database write and the index update")

        monkeypatch.setattr(IndexWorker, "step", crash)
        lost = factory.proposal(need)
        assert ("app", "proposals", lost.id) in set(_db.session.execute(
            select(MatchChange.origin, MatchChange.kind, MatchChange.item_id)))
        assert lost.id not in ms.service(worker_a).matcher("proposals").ids()
        monkeypatch.undo()
        need_id, first_id, lost_id = need.id, first.id, lost.id

    # Restart: the new process's worker resumes from its stored position.
    restarted = matching_app()
    with using(restarted):
        ms.service(restarted).sync()
        coord = factory.user("coordinator")
        client = restarted.test_client()
        login(client, coord)
        html = client.get(f"/brokerage/need/{need_id}").get_data(as_text=True)
        assert set(_order(html, "data-proposal-id")) == {first_id, lost_id}
        assert lost_id in ms.service(restarted).matcher("proposals").ids()
        assert _queue() == 0
        # The other process follows the change log: it applies the stored vectors, encoding nothing.
        with worker_b.app_context():
            svc_b = ms.service(worker_b)
            monkeypatch.setattr(svc_b.encoders, "get", lambda: pytest.fail("a follower must not encode"))
            assert lost_id in svc_b.matcher("proposals").ids()
            assert len(svc_b.matcher("proposals")) == len(ms.service(restarted).matcher("proposals"))


def test_encoder_unavailable_write_succeeds_and_page_says_catching_up(matching_app, factory):
    app = matching_app(OIMS_ENCODER="/nonexistent/models/e5-small")
    with using(app):
        client = app.test_client()
        coord = factory.user("coordinator")
        proposer = factory.user("proposer")
        need = factory.need()
        prop = factory.proposal(need, proposer)  # the write succeeds
        assert _db.session.get(Proposal, prop.id) is not None
        logged = set(_db.session.execute(select(MatchChange.kind, MatchChange.item_id)))
        assert logged >= {("needs", need.id), ("proposals", prop.id)}
        assert _queue() >= 2

        login(client, coord)
        r = client.get(f"/brokerage/need/{need.id}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'data-matching="catching-up"' in html
        assert prop.title in html  # still listed, unranked
        logout(client)

        login(client, proposer)
        # The fit check has its own encoder (OIMS_FIT_ENCODER, packaged USE) and needs no index:
        # it still answers while the matcher catches up.
        r = client.post("/brokerage/fit-check", json={"need_id": need.id, "text": "CFRPの射出成形を提案します。"})
        assert r.status_code == 200 and "missing" in r.get_json()
        assert client.post(f"/proposals/{prop.id}/withdraw", data={"note": "x"}).status_code == 302
        assert _queue() >= 2  # nothing lost: the work waits in the queue


def test_needs_for_you_fit_check_and_reindex(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        org = factory.org(kind="sme", profile=CFRP_PROFILE, technologies=["CFRPプレス成形"])
        _db.session.commit()
        proposer = factory.user("proposer", org=org)
        food_need = factory.need(title="食品工場の衛生管理の高度化", summary="HACCP対応の包装ラインの衛生管理を改善したい。",
                                 background="異物混入の防止が課題。", sought="食品衛生の専門家。", keywords=["HACCP", "食品"])
        cfrp_need = factory.need()

        login(client, proposer)
        html = client.get("/dashboard").get_data(as_text=True)
        panel = html[html.index("panel-needs-for-you"):]
        assert panel.index(cfrp_need.title) < panel.index(food_need.title)

        r = client.post("/brokerage/fit-check", json={
            "need_id": cfrp_need.id, "text": "炭素繊維強化樹脂の射出成形で、アルミ代替の軽量部材を開発します。"})
        data = r.get_json()
        assert r.status_code == 200 and 0.0 <= data["score"] <= 1.0
        assert data["covered"]  # the draft speaks to the need's CFRP and weight-saving requirements
        r = client.post("/brokerage/fit-check", data={"need_id": cfrp_need.id, "text": "CFRPの量産実績があります。"})
        assert r.status_code == 200 and "fit-result" in r.get_data(as_text=True)
        assert client.post("/brokerage/fit-check", data={"need_id": cfrp_need.id, "text": ""}).status_code == 400

        result = app.test_cli_runner().invoke(args=["oims", "reindex"])
        assert result.exit_code == 0, result.output
        assert "needs: 2 indexed" in result.output and "orgs: 1 indexed" in result.output


@pytest.mark.parametrize("name", ["/no/such/model", "st:./missing-model"])
def test_missing_model_path_fails_fast(name):
    from matching import EncoderUnavailable
    from oims.matcher.encoders import check_encoder_name

    with pytest.raises(EncoderUnavailable):
        check_encoder_name(name)


def test_index_in_background_thread(matching_app, factory):
    """Production mode: a commit only appends to the log; the process's worker
    thread encodes and its follower thread applies, and the request waits for neither."""
    app = matching_app(OIMS_INDEX_IN_BACKGROUND=True)
    with using(app):
        svc = ms.service(app)
        need = factory.need()
        prop = factory.proposal(need)
        svc.start()
        assert svc.wait_idle(timeout=120)
        assert all(t.is_alive() for t in svc.upkeep.threads.values()) and len(svc.upkeep.threads) == 2
        assert prop.id in svc.matcher("proposals").ids() and need.id in svc.matcher("needs").ids()
        prop.stage = "withdrawn"
        _db.session.commit()
        assert svc.wait_idle(timeout=120)
        assert prop.id not in svc.matcher("proposals").ids()
        assert _queue() == 0
