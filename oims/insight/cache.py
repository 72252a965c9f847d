"""A cache for the dashboard's KPI panel (the fiscal-year funnel).

Computing the panel reads every proposal of a bureau's year (about 1 s at
100k proposals), so it is kept, per scope and day, in Redis when
OIMS_REDIS_URL is set (shared by every worker and host) or in this process's
memory otherwise. An entry is recomputed:

- on change: committing a need, proposal, stage event or meeting bumps a
  generation counter for its bureau (and the all-bureaus one); entries made
  under an older generation are recomputed on their next view;
- on a schedule: entries older than OIMS_KPI_CACHE_SECONDS are recomputed,
  which also covers changes made outside the app (SQL, restores);
  `flask oims refresh-kpi` recomputes every bureau's panel (from cron).

The page shows when the figures were computed. Without Redis every worker
process keeps its own memory cache and only sees its own changes: a change
made through another worker shows after at most OIMS_KPI_CACHE_SECONDS.
If Redis is configured but unreachable the panel is computed uncached.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select

from oims.core import reference as ref
from oims.extensions import db
from oims.insight.kpi import Scope, fiscal_year_start, funnel, load_facts
from oims.models import Meeting, Need, Proposal, ProposalEvent

log = logging.getLogger(__name__)

PREFIX = "oims:kpi:"
ALL = "*"  # the generation every change bumps (all-bureaus and need-owner scopes follow it)
_BUREAUS = "oims_kpi_bureaus"


class MemoryStore:
    """In-process stand-in for the few Redis calls used here."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float | None, str]] = {}
        self._lock = threading.Lock()

    def mget(self, keys: list[str]) -> list[str | None]:
        now = time.monotonic()
        with self._lock:
            out = []
            for key in keys:
                expires, value = self._data.get(key, (None, None))
                out.append(None if expires is not None and expires < now else value)
            return out

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ex if ex else None, value)

    def incr_many(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._data[key] = (None, str(int(self._data.get(key, (None, "0"))[1] or 0) + 1))

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5,
                                           socket_connect_timeout=0.5)

    def mget(self, keys: list[str]) -> list[str | None]:
        return self.client.mget(keys)

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        self.client.set(key, value, ex=ex)

    def incr_many(self, keys: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
        pipe.execute()

    def clear(self) -> None:
        keys = list(self.client.scan_iter(PREFIX + "*"))
        if keys:
            self.client.delete(*keys)


def store(app=None):
    app = app or current_app
    existing = app.extensions.get("oims_kpi_cache")
    if existing is None:
        url = app.config.get("OIMS_REDIS_URL") or ""
        existing = app.extensions["oims_kpi_cache"] = RedisStore(url) if url else MemoryStore()
    return existing


def _gen_key(bureau: str) -> str:
    return f"{PREFIX}gen:{bureau}"


def scope_key(scope: Scope) -> str:
    return (f"{PREFIX}panel:{scope.bureau or 'all'}:{scope.owner_org_id or '-'}:{int(scope.forwarded_only)}:"
            f"{scope.start}:{scope.end}:{scope.tz}")


def cached(key: str, bureau: str | None, compute: Callable[[], Any]) -> dict:
    """`compute()` (JSON-serialisable), kept under `key` until the next change in
    `bureau` (None: any change) or for OIMS_KPI_CACHE_SECONDS.
    Returns {"value", "computed_at" (aware datetime), "cached" (bool)}."""
    st = store()
    gen_keys = [_gen_key(bureau or ALL)]
    max_age = current_app.config.get("OIMS_KPI_CACHE_SECONDS", 600)
    try:
        entry_raw, *gens = st.mget([key, *gen_keys])
    except Exception:
        log.warning("KPI cache unavailable; computing uncached", exc_info=True)
        return {"value": compute(), "computed_at": datetime.now(UTC), "cached": False}
    gen = ":".join(g or "0" for g in gens)  # read before computing: a change meanwhile wins
    if entry_raw:
        entry = json.loads(entry_raw)
        computed = datetime.fromisoformat(entry["computed_at"])
        if entry["gen"] == gen and (datetime.now(UTC) - computed).total_seconds() <= max_age:
            return {"value": entry["value"], "computed_at": computed, "cached": True}
    value = compute()
    now = datetime.now(UTC)
    try:
        st.set(key, json.dumps({"value": value, "computed_at": now.isoformat(), "gen": gen}), ex=max_age + 60)
    except Exception:
        log.warning("KPI cache unavailable; the value was not stored", exc_info=True)
    return {"value": value, "computed_at": now, "cached": False}


def cached_funnel(scope: Scope) -> dict:
    """{"funnel": rows, "computed_at": aware datetime, "cached": bool} for the panel."""
    # Need owners' needs may sit in any bureau: their panels follow every change.
    bureau = scope.bureau if scope.owner_org_id is None else None
    got = cached(scope_key(scope), bureau, lambda: funnel(load_facts(scope)))
    return {"funnel": got["value"], "computed_at": got["computed_at"], "cached": got["cached"]}


def kpi_changed(bureaus: set[str] | None = None) -> None:
    """Mark the panels of `bureaus` (and the all-bureaus ones) out of date."""
    if not has_app_context():
        return
    keys = [_gen_key(ALL)] + [_gen_key(b) for b in sorted(bureaus or ()) if b]
    try:
        store().incr_many(keys)
    except Exception:
        log.warning("KPI cache unavailable; panels refresh on their schedule", exc_info=True)


# --- change detection ------------------------------------------------------------------

def _after_flush(session, flush_context) -> None:
    need_ids, proposal_ids, bureaus = set(), set(), set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Need):
            bureaus.add(obj.bureau)
        elif isinstance(obj, Proposal):
            need_ids.add(obj.need_id)
        elif isinstance(obj, (ProposalEvent, Meeting)):
            proposal_ids.add(obj.proposal_id)
    if not (need_ids or proposal_ids or bureaus):
        return
    conn = session.connection()
    if proposal_ids:
        need_ids |= set(conn.scalars(select(Proposal.need_id).where(Proposal.id.in_(proposal_ids))))
    if need_ids:
        bureaus |= set(conn.scalars(select(Need.bureau).where(Need.id.in_(need_ids))))
    session.info.setdefault(_BUREAUS, set()).update(b for b in bureaus if b)
    session.info[_BUREAUS + "_any"] = True


_WATCHED_TABLES = {"need", "proposal", "proposal_event", "meeting"}


def _bulk_statement(state) -> None:
    """A bulk UPDATE/DELETE on a watched table (no objects to say which bureau): every panel is out of date."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        state.session.info.setdefault(_BUREAUS, set()).update(b.code for b in ref.BUREAUS)
        state.session.info[_BUREAUS + "_any"] = True


def _after_commit(session) -> None:
    if session.info.pop(_BUREAUS + "_any", False):
        kpi_changed(session.info.pop(_BUREAUS, set()))


def _after_rollback(session) -> None:
    session.info.pop(_BUREAUS, None)
    session.info.pop(_BUREAUS + "_any", None)


_registered = False


def register_events() -> None:
    global _registered
    if _registered:
        return
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "do_orm_execute", _bulk_statement)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
    _registered = True


def refresh_all(today) -> int:
    """Recompute the fiscal-year panel of every bureau and of all bureaus (cron)."""
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Tokyo")
    scopes = [Scope(fiscal_year_start(today), today, b, tz=tz) for b in [None, *(b.code for b in ref.BUREAUS)]]
    for scope in scopes:
        store().set(scope_key(scope), "", ex=1)  # drop the entry: the next line recomputes it
        cached_funnel(scope)
    return len(scopes)
