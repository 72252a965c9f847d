"""Shared fixtures: one app and schema per test session, tables emptied after
each test. The database comes from OIMS_TEST_DATABASE_URL (default: a SQLite
file in a temporary folder), so the same suite runs on PostgreSQL in CI."""

from __future__ import annotations

import os
import re

import pytest

from oims import create_app
from oims.extensions import db as _db

from .factories import Factory, login


def _per_xdist_worker(url: str) -> str:
    """Under pytest-xdist (`-n 2`) each worker gets its own PostgreSQL
    database, <name>_gw0, <name>_gw1 (created when missing); SQLite files are
    already per worker (tmp_path_factory)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgres"):
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = base.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


TEST_DB_URL = _per_xdist_worker(os.environ.get("OIMS_TEST_DATABASE_URL", ""))

# Fixtures that load a real model, start a server or a browser, or read the
# external eval sets: a test using any of them is `slow` without having to say
# so, and `pytest -m "not slow"` (make test-quick) leaves it out.
SLOW_FIXTURES = frozenset({"e5", "minilm", "use", "eval_dir", "matching_app", "live_server", "browser",
                           "open_as", "smtp_port"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("e2e") or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def base_config(tmp_path_factory, **overrides) -> dict:
    inst = tmp_path_factory.mktemp("instance")
    url = TEST_DB_URL or f"sqlite:///{inst / 'test.sqlite3'}"
    cfg = {
        "TESTING": True,
        "INSTANCE_PATH": str(inst),
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "OIMS_ARGON2_TIME_COST": 1,
        "OIMS_ARGON2_MEMORY_KIB": 1024,
        "OIMS_MAIL_BACKEND": "log",
        "OIMS_MATCHING_ENABLED": False,
        # Index synchronously after each commit, so tests can check the index
        # right away; test_index_in_background covers the background thread.
        "OIMS_INDEX_IN_BACKGROUND": False,
        # Bulk imports run in the request (the progress page and resumption are tested directly).
        "OIMS_IMPORT_IN_BACKGROUND": False,
        "SERVER_NAME": "localhost",
    }
    cfg.update(overrides)
    return cfg


def _empty_tables() -> None:
    # DELETE is much faster than TRUNCATE on PostgreSQL for tables this small.
    for t in reversed(_db.metadata.sorted_tables):
        _db.session.execute(t.delete())
    _db.session.commit()


def _fresh_g():
    """Tests hold an app context while they make requests, and Flask reuses
    it for each request; start every request with an empty `g` as in
    production (Flask-Login, Babel and CSRF cache per-request values there)."""
    from flask import g

    for key in list(vars(g)):
        delattr(g, key)


def _sqlite_without_fsync(app) -> None:
    """Tests never need durability across a power cut: on SQLite, commit
    without fsync (PRAGMA synchronous=OFF). This halves the feature tests'
    time; PostgreSQL runs are unchanged."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        @event.listens_for(_db.engine, "connect")
        def _pragma(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.close()


def make_app(tmp_path_factory, **overrides):
    app = create_app(base_config(tmp_path_factory, **overrides))
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    _sqlite_without_fsync(app)
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context(), app.test_request_context():
        yield app
        _db.session.rollback()
        _empty_tables()
        _db.session.remove()


@pytest.fixture
def db(app_ctx):
    return _db


@pytest.fixture
def client(app, app_ctx):
    return app.test_client()


@pytest.fixture
def factory(db):
    return Factory(db)


@pytest.fixture
def cast(factory):
    """The shared test users (owner, proposer, coordinators, admin...), each
    made on first use: see tests/cast.py for who is who."""
    return factory.cast


@pytest.fixture
def as_user(client):
    """as_user(user) -> the test client, signed in as `user`.

    The first switch signs in through the login form; later ones put the user
    into the session cookie as Flask-Login does (many role switches per test,
    kept fast). For two people at once, use `signed_in`."""
    state = {"logged_in": False}

    def switch(user):
        if not state["logged_in"]:
            resp = login(client, user)
            assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
            state["logged_in"] = True
            return client
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return switch


@pytest.fixture
def signed_in(app, app_ctx):
    """signed_in(user) -> a new test client of its own, signed in as `user`."""
    def make(user):
        client = app.test_client()
        assert login(client, user).status_code == 302
        return client

    return make


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


@pytest.fixture
def variant_app(app, tmp_path_factory):
    """Build another app on the same database with some settings changed
    (CSRF on, rate limits on...)."""
    made = []

    def build(**overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", app.config["SQLALCHEMY_DATABASE_URI"])
        new = make_app(tmp_path_factory, **overrides)
        made.append(new)
        return new

    yield build
    for new in made:
        with new.app_context():
            _db.engine.dispose()
    # Limits are counted in one shared in-memory store: start the next test clean.
    from oims.extensions import limiter

    if made and limiter.initialized:
        limiter.reset()
