"""Keeping this process's index current: the embedded encoding worker and the
follower that applies the log's "index" entries to the in-memory index.

In production (OIMS_INDEX_IN_BACKGROUND, the default) a commit only wakes the
process's two threads; their first steps are the worker's repair and loading the
index, so no request waits for them. Otherwise (tests, CLI, benchmarks) the
same work runs inline after each commit and before each search.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from flask import Flask, has_request_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oims.extensions import db
from oims.matcher.mirror import IndexMirror
from oims.matcher.sessions import own_session
from oims.matcher.worker import IndexWorker, pending_changes
from oims.models import MatchChange

log = logging.getLogger(__name__)

STATUS_SECONDS = 1.0  # how long a status line may reuse the pending count


class IndexUpkeep:
    def __init__(self, app: Flask, mirror: IndexMirror, encoder_factory: Callable, *, enabled: bool,
                 background: bool, embedded_worker: bool, poll_seconds: float, lease_seconds: float) -> None:
        self.enabled = enabled
        self.background = background
        self.embedded_worker = embedded_worker
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.mirror = mirror
        self.threads: dict[str, threading.Thread] = {}
        self._encoder_factory = encoder_factory
        self._worker: IndexWorker | None = None
        self._app = app
        self._start_lock = threading.Lock()  # never held while working: kick() stays instant
        self._wake_worker = threading.Event()
        self._wake_mirror = threading.Event()
        self._pid = 0
        self._status_cache: tuple[float, int] | None = None  # (monotonic time, pending)

    @property
    def worker(self) -> IndexWorker:
        """This process's worker, made on first use (its lease owner names the process)."""
        if self._worker is None:
            self._worker = IndexWorker(self._encoder_factory, lease_seconds=self.lease_seconds)
        return self._worker

    def start(self) -> None:
        """Start this process's background threads (once per process; cheap to call)."""
        if not self.enabled or not self.background:
            return
        with self._start_lock:
            if self._pid != os.getpid():  # threads do not survive fork()
                self.threads, self._pid = {}, os.getpid()
            wanted = {"oims-index-follow": self._follow_loop}
            if self.embedded_worker:
                wanted["oims-index-worker"] = self._worker_loop
            for name, target in wanted.items():
                t = self.threads.get(name)
                if t is None or not t.is_alive():
                    t = self.threads[name] = threading.Thread(target=target, name=name, daemon=True)
                    t.start()

    def kick(self) -> None:
        """After a commit that changed what the matcher reads: work soon, off this thread."""
        if not self.background:
            self.sync()
            return
        if has_request_context():
            # A CLI command (demo, import) leaves the work to the running workers.
            self.start()
        self._wake_worker.set()
        self._wake_mirror.set()

    def sync(self) -> None:
        """Inline (tests, CLI): encode what is pending, then apply it to the index."""
        if not self.enabled:
            return
        with own_session() as session:
            try:
                self.worker.run_until_idle(session, use_lease=False)
            except Exception:
                log.warning("index update deferred; the change log keeps it", exc_info=True)
                session.rollback()
            self.mirror.follow(session)

    def _worker_loop(self) -> None:
        while True:
            with self._app.app_context():
                try:
                    with own_session() as session:
                        while self.worker.step(session):
                            self._wake_mirror.set()
                except Exception:
                    log.warning("index worker step failed; retrying", exc_info=True)
                    self._wake_worker.wait(5.0)
            self._wake_worker.wait(self.poll_seconds)
            self._wake_worker.clear()

    def _follow_loop(self) -> None:
        while True:
            with self._app.app_context():
                try:
                    with own_session() as session:
                        while self.mirror.follow(session):
                            pass
                except Exception:
                    log.warning("index follower failed; retrying", exc_info=True)
                    time.sleep(2.0)
            self._wake_mirror.wait(self.poll_seconds)
            self._wake_mirror.clear()

    def ensure_current(self) -> bool:
        """Before a search: True when the in-memory index can answer (never waits for encoding)."""
        if not self.enabled:
            return False
        if self.background and has_request_context():
            self.start()
        else:  # tests, CLI and benchmarks: follow inline (no threads)
            try:
                with own_session() as session:
                    self.mirror.follow(session)
            except Exception:
                log.warning("matching is not available", exc_info=True)
        return self.mirror.loaded

    def _late_entries(self, session: Session) -> bool:
        """Entries below the worker's position that committed after it moved past them
        (gaps its reader will read again): still work to do."""
        reader = getattr(self._worker, "reader", None)
        gaps = sorted(reader.gaps)[:1000] if reader is not None and reader.gaps else []
        if not gaps:
            return False
        return bool(session.scalar(select(func.count(MatchChange.id)).where(
            MatchChange.id.in_(gaps), MatchChange.origin == "app")))

    def pending(self, session: Session | None = None) -> int:
        """Changes the worker has not handled yet (approximately)."""
        return pending_changes(session or db.session)

    def status(self) -> dict:
        if not self.enabled:
            return {"enabled": False, "available": False, "pending": 0, "catching_up": False}
        loaded = self.ensure_current()
        pending = self._pending_count()
        return {"enabled": True, "available": loaded, "pending": pending,
                "catching_up": pending > 0 or not loaded}

    def _pending_count(self) -> int:
        """`pending()` for status lines: with background threads, the count read in the
        last STATUS_SECONDS is reused (a page shows it on every view; a second late is
        harmless). Inline (tests, CLI) it is always read."""
        if not self.background:
            return self.pending()
        now = time.monotonic()
        cached = self._status_cache
        if cached is not None and now - cached[0] < STATUS_SECONDS:
            return cached[1]
        pending = self.pending()
        self._status_cache = (now, pending)
        return pending

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every change is encoded and applied here (benchmarks, tests, CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with own_session() as session:
                top = session.scalar(select(func.max(MatchChange.id))) or 0
                if self.mirror.loaded and not self.pending(session) and not self._late_entries(session) and (
                        self.mirror.reader is not None and self.mirror.reader.position >= top):
                    return True
            if not self.background:
                self.sync()
            else:
                self.start()
                self.kick()
            time.sleep(0.05)
        return False
