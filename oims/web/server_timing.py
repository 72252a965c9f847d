"""The `Server-Timing` response header (OIMS_SERVER_TIMING=1), for benchmarks
and browser developer tools: how long the app spent on a request, measured
inside the worker process, apart from the network and the client.

    Server-Timing: app;dur=12.3, cpu;dur=8.1, db;dur=3.2;desc="17 statements"

- app: wall time from the WSGI call to the response's headers (routing,
  session, the view, after-request work; the end of the request context,
  which follows, is left out);
- cpu: CPU time of the serving thread in that span (what the machine's load
  does not inflate, unlike `app`);
- db: time inside SQL statements sent by that thread, and how many.

Off by default: the header tells clients how the server spends its time.
"""

from __future__ import annotations

import threading
import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

_local = threading.local()
_listening = False


def init_app(app: Flask) -> None:
    if not app.config.get("OIMS_SERVER_TIMING"):
        return
    global _listening
    if not _listening:
        event.listen(Engine, "before_cursor_execute", _before)
        event.listen(Engine, "after_cursor_execute", _after)
        _listening = True
    app.wsgi_app = ServerTiming(app.wsgi_app)


def _before(conn, cursor, statement, parameters, context, executemany) -> None:
    state = getattr(_local, "state", None)
    if state is not None:
        state["started"] = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany) -> None:
    state = getattr(_local, "state", None)
    if state is not None and state["started"] is not None:
        state["statements"] += 1
        state["db"] += time.perf_counter() - state["started"]
        state["started"] = None


class ServerTiming:
    """WSGI middleware adding the header when the response starts."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        state = _local.state = {"statements": 0, "db": 0.0, "started": None}
        t0, c0 = time.perf_counter(), time.thread_time()

        def timed_start_response(status, headers, exc_info=None):
            wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
            value = (f"app;dur={wall * 1000:.1f}, cpu;dur={cpu * 1000:.1f}, "
                     f'db;dur={state["db"] * 1000:.1f};desc="{state["statements"]} statements"')
            return start_response(status, [*headers, ("Server-Timing", value)], exc_info)

        try:
            return self.wsgi_app(environ, timed_start_response)
        finally:
            _local.state = None
