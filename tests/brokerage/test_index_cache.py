"""The index as a cache of the database: the change log reader, the worker's
lease, stored vectors reused without encoding, pages that never encode, the
ranked-list cache (memory and Redis)."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from sqlalchemy import insert, select, update

from oims.extensions import db as _db
from oims.matcher import service as ms
from oims.matcher.cache import MemoryBackend, ResultCache
from oims.matcher.changelog import LogReader
from oims.matcher.worker import IndexWorker
from oims.models import MatchChange, MatchCursor, MatchItem
from oims.models.base import utcnow

from ..factories import login
from .conftest import using


def _no_encoding(monkeypatch, svc):
    """Make any encoding in this process fail the test."""
    enc = svc.encoder()
    for name in ("encode_queries", "encode_documents"):
        monkeypatch.setattr(enc, name, lambda texts, _n=name: pytest.fail(f"{_n} called while serving"))


def test_log_reader_picks_up_an_entry_committed_out_of_order(db):
    def log(entry_id):
        db.session.execute(insert(MatchChange.__table__), [{"id": entry_id, "origin": "app", "kind": "needs",
                                                            "item_id": entry_id, "created_at": utcnow()}])
        db.session.commit()

    base = (db.session.scalar(select(MatchChange.id).order_by(MatchChange.id.desc()).limit(1)) or 0) + 10
    reader = LogReader(base)
    log(base + 1)
    log(base + 3)  # base + 2 is still "in flight"
    rows = reader.read(db.session)
    assert [r.id for r in rows] == [base + 1, base + 3]
    reader.handled([r.id for r in rows])
    assert reader.position == base + 3 and base + 2 in reader.gaps
    assert reader.read(db.session) == []
    log(base + 2)  # ...commits later: it is read, not skipped
    rows = reader.read(db.session)
    assert [r.id for r in rows] == [base + 2]
    reader.handled([base + 2])
    assert not reader.gaps and reader.read(db.session) == []
    # A gap that never fills (a rollback) is forgotten after gap_seconds.
    short = LogReader(base + 3, gap_seconds=0.0)
    log(base + 5)
    short.handled([r.id for r in short.read(db.session)])
    time.sleep(0.01)
    short.handled([])
    assert not short.gaps and short.position == base + 5


def test_one_worker_holds_the_lease_another_takes_over_when_it_expires(matching_app, factory):
    app = matching_app()
    with using(app):
        svc = ms.service(app)
        first = IndexWorker(svc.encoder, lease_seconds=30, owner="host-a:1")
        second = IndexWorker(svc.encoder, lease_seconds=30, owner="host-b:2")
        session = _db.session
        assert first.claim(session) is not None
        assert second.claim(session) is None  # held by a live worker
        assert second.step(session) == 0
        session.execute(update(MatchCursor).values(lease_until=None))  # the holder died long ago
        session.commit()
        cur = second.claim(session)
        assert cur is not None and cur.owner == "host-b:2"
        assert first.claim(session) is None


def test_pages_never_encode_and_edits_make_a_new_need_vector(matching_app, factory, monkeypatch):
    app = matching_app()
    with using(app):
        svc = ms.service(app)
        coord = factory.user("coordinator")
        need = factory.need()
        prop = factory.proposal(need)
        factory.org(kind="sme", profile="炭素繊維強化樹脂（CFRP）の射出成形で自動車部品を量産しています。")
        _db.session.commit()
        before = ms.need_vector(need)
        assert before is not None and before.shape == (svc.encoder().dim,)
        sentences, vecs = ms.need_sentence_vectors(need)
        assert len(sentences) == len(vecs) >= 1

        client = app.test_client()
        login(client, coord)
        with monkeypatch.context() as mp:
            _no_encoding(mp, svc)
            html = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
            ranked = re.findall(r'data-proposal-id="(\d+)">\s*<td>.*?</td>\s*<td>(\d+|—)</td>', html, re.DOTALL)
            assert ranked == [(str(prop.id), "1")] and 'data-matching="catching-up"' not in html
            assert "data-org-id=" in html  # recommendations, from the stored need vector too

        need.summary = "全く別の課題：食品工場の包装ラインの衛生管理を改善したい。"
        _db.session.commit()  # the worker (inline in tests) encodes the new version once
        after = ms.need_vector(need)
        assert after is not None and not np.allclose(before, after)
        stored = _db.session.scalar(select(MatchItem).where(MatchItem.kind == "need_queries",
                                                            MatchItem.item_id == need.id))
        assert stored.texts[0] == need.matching_text()


def test_ranked_list_cache_serves_stale_then_refreshes():
    cache = ResultCache(MemoryBackend())
    from matching import Reason, Result

    calls = []

    def compute(tag):
        def run():
            calls.append(tag)
            return [Result(1, 0.5, [Reason("文", ["語"], 0.1, 0)])]
        return run

    key = cache.key("proposals", 1, "h")
    first = cache.get_or_compute(key, 5, compute("a"))
    assert calls == ["a"] and first[0].reasons[0].terms == ["語"]
    assert cache.get_or_compute(key, 5, compute("b")) == first and calls == ["a"]  # fresh: no work
    stale = cache.get_or_compute(key, 6, compute("c"))  # the index moved on
    assert stale == first
    cache._pool.shutdown(wait=True)  # the background refresh ran
    assert calls == ["a", "c"]


def test_a_new_process_builds_from_stored_vectors_and_reanalyses_an_old_analysis(matching_app, factory,
                                                                                   monkeypatch):
    app = matching_app()
    with using(app):
        need = factory.need()
        prop = factory.proposal(need)
        _db.session.commit()
        _db.session.execute(update(MatchItem).where(MatchItem.kind == "proposals")
                            .values(analyser="old-analyser/0", analysis=b"[]"))
        _db.session.commit()
        fresh = matching_app()
        with fresh.app_context():
            svc = ms.service(fresh)
            _no_encoding(monkeypatch, svc)
            m = svc.matcher("proposals")
            assert prop.id in m.ids()
            assert m._lexicon.scores("射出成形", 64).max() > 0  # analysed again from the texts
            # The worker brings the stored analysis up to date without encoding.
            with ms.own_session() as session:
                report = svc.worker.process(session, [("proposals", prop.id)])
                session.commit()
            assert report["proposals"] == [1, 0]
        row = _db.session.scalar(select(MatchItem).where(MatchItem.kind == "proposals",
                                                         MatchItem.item_id == prop.id))
        _db.session.refresh(row)
        assert row.analyser != "old-analyser/0" and row.analysis != b"[]"


def test_ranked_lists_cached_in_redis_when_configured(matching_app, factory):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/2"
    try:
        r = redis.Redis.from_url(url)
        r.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    app = matching_app(OIMS_REDIS_URL=url)
    with using(app):
        svc = ms.service(app)
        svc.cache.prefix = f"oims:test:{time.time_ns()}:"
        need = factory.need()
        factory.proposal(need)
        _db.session.commit()
        assert ms.rank_proposals(need)
        keys = r.keys(svc.cache.prefix + "*")
        assert keys
        r.delete(*keys)


def test_bulk_writes_that_bypass_the_orm_are_indexed_once_logged(matching_app, factory):
    from oims.models import Organisation

    app = matching_app()
    with using(app):
        svc = ms.service(app)
        factory.need()  # the worker has started (and run its start-up repair)
        assert svc.worker.repaired
        _db.session.execute(insert(Organisation), [{
            "name": "一括登録精工", "kind": "sme", "prefecture": "13", "bureau": "kanto", "industry": "E",
            "employee_band": "21-50", "profile": "アルミニウムの精密切削加工と陽極酸化処理を行っています。",
            "technologies": ["精密切削"]}])
        org_id = _db.session.scalar(select(Organisation.id).where(Organisation.name == "一括登録精工"))
        _db.session.commit()
        svc.sync()
        assert org_id not in svc.matcher("orgs").ids()  # a Core insert fires no ORM event
        ms.log_changes(_db.session, "orgs", [org_id])
        _db.session.commit()
        svc.sync()
        assert org_id in svc.matcher("orgs").ids()
