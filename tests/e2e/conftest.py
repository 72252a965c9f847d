"""Real-browser fixtures: the app served on 127.0.0.1 with a fresh database,
and Debian's Chromium driven by Playwright.

Without Chromium (or Playwright) the journeys are skipped with a plain
message, unless OIMS_E2E_REQUIRED=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from oims import create_app
from oims.extensions import db as _db

from ..factories import Factory

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REQUIRED = os.environ.get("OIMS_E2E_REQUIRED") == "1"


def _chromium() -> str | None:
    """Debian's Chromium; OIMS_CHROMIUM names another binary (and only that one)."""
    if chosen := os.environ.get("OIMS_CHROMIUM"):
        return chosen if Path(chosen).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _unavailable(message: str):
    if REQUIRED:
        pytest.fail(f"{message} (OIMS_E2E_REQUIRED=1: the browser journeys must run)", pytrace=False)
    pytest.skip(f"{message}: browser journeys skipped", allow_module_level=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _e2e_database(tmp: Path) -> tuple[str, callable]:
    """A fresh database: a SQLite file, or on PostgreSQL a database of its own
    next to OIMS_TEST_DATABASE_URL (<name>_e2e[_<xdist worker>]), dropped afterwards."""
    url = os.environ.get("OIMS_TEST_DATABASE_URL", "")
    if not url:
        return f"sqlite:///{tmp / 'e2e.sqlite3'}", lambda: None
    import psycopg

    parts = urlsplit(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # one database per xdist worker
    name = (parts.path.lstrip("/") or "oims") + "_e2e" + (f"_{worker}" if worker else "")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path="/" + name)), drop


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url
        self._factory = None

    def factory(self):
        """One factory for the server's database, which lives for the session: the shared
        cast (the coordinator who publishes the factory's needs...) is made once."""
        if self._factory is None:
            self._factory = Factory(_db)
        return self._factory


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from werkzeug.serving import make_server

    tmp = tmp_path_factory.mktemp("e2e")
    db_url, drop = _e2e_database(tmp)
    port = _free_port()
    app = create_app({
        "INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "e2e-secret",
        "SQLALCHEMY_DATABASE_URI": db_url,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "OIMS_ARGON2_TIME_COST": 1,
        "OIMS_ARGON2_MEMORY_KIB": 1024,
        "OIMS_MAIL_BACKEND": "log",
        "OIMS_MATCHING_ENABLED": os.environ.get("OIMS_E2E_MATCHING", "1") == "1",
        "OIMS_ENCODER": os.environ.get("OIMS_E2E_ENCODER", "use"),  # the fast packaged encoder
        "OIMS_BASE_URL": f"http://127.0.0.1:{port}",
    })
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log in the test output
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="oims-e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def open_as(browser, live_server):
    """open_as(locale) -> a new page in its own browser context (its own cookies)."""
    contexts = []

    def make(locale: str = "ja-JP"):
        ctx = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts
        return page

    yield make
    for ctx in contexts:
        ctx.close()
