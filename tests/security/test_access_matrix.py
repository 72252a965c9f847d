"""The access matrix: every route of the URL map × every role × own/another's object.

Expectations live in ONE table, `access_rules.RULES`. The cases are generated
from the app's URL map, so a new route without a declared rule fails here.

One world (two bureaus, see world.py) is shared by the whole module; a
request that may have changed it (an accepted POST) makes the next case
rebuild it, so every case starts from the same state.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import event

from oims import create_app
from oims.extensions import db as _db

from ..conftest import _empty_tables
from ..factories import login
from .access_rules import PARAM_DEFAULTS, RULES, Lit
from .world import ROLES, SIDES, api_token_for, build_world

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _url_map_rules():
    """The app's rules, read once at collection from a throwaway app."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="oims-matrix-")})
    by_endpoint = {}
    for rule in app.url_map.iter_rules():
        by_endpoint.setdefault(rule.endpoint, rule)
    return by_endpoint


URL_RULES = _url_map_rules()
ENDPOINTS = sorted(set(URL_RULES) | set(RULES))


def is_api(endpoint: str) -> bool:
    """Token-authenticated JSON endpoints (the API blueprint's cookie pages excepted)."""
    declared = RULES.get(endpoint)
    return endpoint.split(".", 1)[0] == "api" and not (declared and declared.session)


def method_for(endpoint: str) -> str:
    rule, declared = URL_RULES[endpoint], RULES.get(endpoint)
    if declared is not None and declared.method:
        return declared.method
    methods = rule.methods - {"HEAD", "OPTIONS"}
    if "GET" in methods:
        return "GET"
    return sorted(methods & set(UNSAFE))[0]


def classify(resp, api: bool) -> str:
    status = resp.status_code
    location = urlsplit(resp.headers.get("Location", "")).path
    if status == 401 or (300 <= status < 400 and location.startswith("/auth/login")):
        return "login"
    if status in (403, 404):
        return "deny"
    if 200 <= status < 400:
        return "ok"
    if status in (400, 422):
        return "400"
    return str(status)


ACCEPTS = {"ok": {"ok"}, "ok400": {"ok", "400"}, "login": {"login"}, "deny": {"deny"}}


class Matrix:
    """The shared world, a logged-in client per role and an API token per role."""

    def __init__(self, app):
        self.app = app
        self.dirty = True
        self.world = None
        self.clients: dict = {}
        self.tokens: dict = {}
        self.logged_in_once = False
        self.rebuilds = 0

    def fresh(self):
        if not self.dirty:
            return
        _db.session.rollback()
        _empty_tables()
        self.rebuilds += 1
        self.world = build_world(_db)
        self.clients = {"anon": self.app.test_client()}
        self.tokens = {"anon": None}
        from oims.models import User

        for role, uid in self.world["users"].items():
            client = self.app.test_client()
            user = _db.session.get(User, uid)
            if self.logged_in_once:
                # Signing in over HTTP was checked on the first build; after
                # that, put the session in place directly (saves a password
                # hash per role per rebuild).
                with client.session_transaction() as sess:
                    sess["_user_id"] = user.get_id()
                    sess["_fresh"] = True
            else:
                resp = login(client, user)
                assert resp.status_code == 302, f"could not log in {role}"
            self.clients[role] = client
            self.tokens[role] = None  # made on first API use
        self.logged_in_once = True
        self.dirty = False

    def token(self, role: str) -> str | None:
        if role == "anon":
            return None
        if self.tokens.get(role) is None:
            from oims.models import User

            self.tokens[role] = api_token_for(_db, _db.session.get(User, self.world["users"][role]))
        return self.tokens[role]

    def url(self, endpoint: str, side: str) -> str:
        rule = URL_RULES[endpoint]
        declared = RULES[endpoint]
        ids = self.world[side]
        values = {}
        for arg in rule.arguments:
            source = declared.params.get(arg, PARAM_DEFAULTS.get(arg))
            if source is None:
                pytest.fail(f"{endpoint}: declare which object fills <{arg}> (Rule.params)")
            if isinstance(source, Lit):
                values[arg] = source.value
            else:
                values[arg] = ids[source]
        path = _build_path(rule, values)
        if declared.query:
            query = {k: (v.value if isinstance(v, Lit) else ids[v]) for k, v in declared.query.items()}
            path += "?" + urlencode(query)
        return path


    def data(self, endpoint: str, side: str) -> dict:
        ids = self.world[side]
        return {k: (v.value if isinstance(v, Lit) else str(ids[v])) for k, v in RULES[endpoint].data.items()}


def _build_path(rule, values: dict) -> str:
    adapter = rule.map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=None, force_external=False)


def _no_fsync(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


@contextmanager
def fast_sqlite(engine):
    """The world is rebuilt about a hundred times: on SQLite, skip the fsync of
    every commit for this module (durability is not what is tested here)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    _db.session.remove()
    engine.dispose()
    event.listen(engine, "connect", _no_fsync)
    try:
        yield
    finally:
        _db.session.remove()
        event.remove(engine, "connect", _no_fsync)
        engine.dispose()


@pytest.fixture(scope="module")
def matrix(app):
    with app.app_context(), app.test_request_context(), fast_sqlite(_db.engine):
        m = Matrix(app)
        yield m
        _db.session.rollback()
        _empty_tables()
        _db.session.remove()


def _expected(endpoint: str, role: str, side: str) -> str:
    value = RULES[endpoint].expect[role]
    if isinstance(value, tuple):
        return value[SIDES.index(side)]
    return value


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_access(matrix, endpoint, role, side):
    if endpoint not in URL_RULES:
        pytest.fail(f"{endpoint} is declared in RULES but is not a route any more")
    if endpoint not in RULES:
        pytest.fail(f"{endpoint} ({URL_RULES[endpoint].rule}) has no access rule in tests/security/access_rules.py")
    matrix.fresh()
    method = method_for(endpoint)
    url = matrix.url(endpoint, side)
    api = is_api(endpoint)
    client = matrix.clients["anon" if api else role]
    headers = {}
    if api and (token := matrix.token(role)):
        headers["Authorization"] = f"Bearer {token}"
    kwargs = {"headers": headers}
    if method in UNSAFE:
        kwargs["json" if api else "data"] = matrix.data(endpoint, side)
    resp = client.open(url, method=method, **kwargs)
    got = classify(resp, api)
    if got == "503" and RULES[endpoint].unavailable_ok:
        got = "ok"
    if method in UNSAFE and got == "ok" and not RULES[endpoint].keeps_world:
        matrix.dirty = True  # it may have changed the world (a refused or invalid request must not have)
    expected = _expected(endpoint, role, side)
    assert got in ACCEPTS[expected], (
        f"{method} {url} as {role} on {side} object: got {resp.status_code} "
        f"{resp.headers.get('Location', '')} ({got}), expected {expected}"
    )


def test_every_endpoint_has_a_rule():
    missing = sorted(set(URL_RULES) - set(RULES))
    stale = sorted(set(RULES) - set(URL_RULES))
    assert not missing, f"routes without an access rule: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_roles_required_matches_table():
    """Views guarded with roles_required(...) refuse every other role in the table too."""
    app_rules = URL_RULES
    from flask import current_app  # noqa: F401

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="oims-matrix-")})
    role_of = {"owner": "need_owner", "proposer": "proposer", "coord": "coordinator", "coord_other": "coordinator"}
    for endpoint, rule in app_rules.items():
        view = app.view_functions.get(endpoint)
        required = getattr(view, "required_roles", None)
        if not required or endpoint not in RULES:
            continue
        for role, model_role in role_of.items():
            if model_role not in required:
                for side in SIDES:
                    assert _expected(endpoint, role, side) == "deny", (endpoint, role, side)
