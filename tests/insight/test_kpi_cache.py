"""The cached KPI panel of the dashboard: recomputed on change (per bureau),
on a schedule, its age shown; shared through Redis between app instances."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from oims.insight import cache
from oims.insight.kpi import Scope

from ..factories import login
from ..html import texts


def panel_counts(html: str) -> list[int]:
    return [int(n) for n in texts(html, "kpi-panel-count")]


@pytest.fixture
def world(app, cast, factory):
    """A Kanto need with one proposal and a Kinki need, from the cast; the cache starts empty."""
    cache.store(app).clear()
    need = factory.need(owner=cast.owner)
    need_kinki = factory.need(owner=cast.other_owner)
    factory.proposal(need, cast.proposer)
    yield {"coord": cast.coordinator, "need": need, "need_kinki": need_kinki}
    cache.store(app).clear()


def test_panel_is_cached_and_recomputed_on_change(client, db, factory, world, monkeypatch):
    login(client, world["coord"])
    calls = []
    real = cache.load_facts
    monkeypatch.setattr(cache, "load_facts", lambda scope: calls.append(scope.bureau) or real(scope))

    html = client.get("/dashboard").get_data(as_text=True)
    assert panel_counts(html)[:2] == [1, 1]  # needs published, proposals
    client.get("/dashboard")
    assert calls == ["kanto"]  # the second view came from the cache

    # A change in another bureau leaves Kanto's panel cached.
    factory.proposal(world["need_kinki"])
    client.get("/dashboard")
    assert calls == ["kanto"]

    # A proposal to a Kanto need makes the next view recompute it.
    factory.proposal(world["need"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert calls == ["kanto", "kanto"]
    assert panel_counts(html)[:2] == [1, 2]

    # A stage change (an event row and a proposal update) counts as a change too.
    from oims.models import Proposal, ProposalEvent
    p = db.session.scalars(db.select(Proposal).where(Proposal.need_id == world["need"].id)).first()
    p.stage = "shortlisted"
    db.session.add(ProposalEvent(proposal_id=p.id, from_stage="submitted", to_stage="shortlisted",
                                 actor_id=world["coord"].id))
    db.session.commit()
    html = client.get("/dashboard").get_data(as_text=True)
    assert len(calls) == 3
    assert panel_counts(html)[2] == 1  # shortlisted


def test_rolled_back_change_does_not_invalidate(client, db, factory, world, monkeypatch):
    login(client, world["coord"])
    client.get("/dashboard")
    calls = []
    monkeypatch.setattr(cache, "load_facts", lambda scope: calls.append(1) or cache.Facts(scope))
    world["need"].title = "変更したが取り消す"
    db.session.flush()
    db.session.rollback()
    client.get("/dashboard")
    assert calls == []


def _age_entry(app, minutes: int):
    st = cache.store(app)
    key = next(k for k in st._data if k.startswith(cache.PREFIX + "panel:kanto"))
    expires, raw = st._data[key]
    entry = json.loads(raw)
    entry["computed_at"] = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
    st._data[key] = (expires, json.dumps(entry))


def test_age_is_shown_and_old_entries_are_recomputed(app, client, db, world, monkeypatch):
    login(client, world["coord"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "kpi-age" in html and "data-computed-at=" in html
    _age_entry(app, minutes=5)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "5 分前" in html or "5 minutes ago" in html
    calls = []
    real = cache.load_facts
    monkeypatch.setattr(cache, "load_facts", lambda scope: calls.append(1) or real(scope))
    monkeypatch.setitem(app.config, "OIMS_KPI_CACHE_SECONDS", 120)  # the schedule: at most 2 minutes old
    html = client.get("/dashboard").get_data(as_text=True)
    assert calls == [1]
    assert "5 分前" not in html and "5 minutes ago" not in html


def test_refresh_command_warms_every_bureau(app, runner, db, world, monkeypatch):
    result = runner.invoke(args=["oims", "refresh-kpi"])
    assert result.exit_code == 0 and "refreshed 10 KPI panels" in result.output
    calls = []
    monkeypatch.setattr(cache, "load_facts", lambda scope: calls.append(1) or cache.Facts(scope))
    from oims.insight.kpi import fiscal_year_start

    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).date()
    entry = cache.cached_funnel(Scope(fiscal_year_start(today), today, "kanto"))
    assert entry["cached"] and calls == []
    assert entry["funnel"][1]["count"] == 1


def _redis_or_skip(url: str):
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")


def test_redis_shares_the_cache_and_its_invalidation_between_instances(variant_app, db, factory, world):
    url = "redis://127.0.0.1:6379/3"
    _redis_or_skip(url)
    a, b = variant_app(OIMS_REDIS_URL=url), variant_app(OIMS_REDIS_URL=url)
    cache.store(a).clear()
    scope = Scope(None, None, "kanto")
    try:
        with a.app_context():
            assert isinstance(cache.store(), cache.RedisStore)
            assert cache.cached_funnel(scope)["cached"] is False
        with b.app_context():
            got = cache.cached_funnel(scope)
            assert got["cached"] is True and got["funnel"][1]["count"] == 1  # computed by "a"
        with a.app_context():
            cache.kpi_changed({"kanto"})  # what a commit through "a" does
        with b.app_context():
            assert cache.cached_funnel(scope)["cached"] is False
    finally:
        cache.store(a).clear()


def test_unreachable_redis_degrades_to_uncached(variant_app, db, world):
    app = variant_app(OIMS_REDIS_URL="redis://127.0.0.1:5139/3")  # nothing listens there
    with app.app_context():
        got = cache.cached_funnel(Scope(None, None, "kanto"))
        assert got["cached"] is False and got["funnel"][1]["count"] == 1
        cache.kpi_changed({"kanto"})  # logs, does not raise


def test_bulk_delete_invalidates_every_bureau(client, db, world, monkeypatch):
    from oims.models import Proposal

    login(client, world["coord"])
    client.get("/dashboard")
    proposal = Proposal.__table__
    for table in reversed(db.metadata.sorted_tables):  # the proposal's history and receipts first (PostgreSQL checks)
        if any(fk.column.table is proposal for fk in table.foreign_keys):
            db.session.execute(table.delete())
    db.session.execute(proposal.delete())
    db.session.commit()
    html = client.get("/dashboard").get_data(as_text=True)
    assert panel_counts(html)[:2] == [1, 0]
