"""Shared machinery of the security tests: the URL map read once, the
two-bureau world with a signed-in client and an API token per role, and how
a response is classified (ok / login / deny / 400)."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest
from flask import current_app, g

from oims import create_app
from oims.extensions import db as _db

from ..conftest import _empty_tables
from ..factories import login
from .access_rules import INCONSISTENT, NOT_FOUND_UNLESS_MANAGER, PARAM_DEFAULTS, RULES, Lit
from .world import SIDES, api_token_for, build_world

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _url_map_rules():
    """The app's rules, read once at collection from a throwaway app."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="oims-matrix-")})
    by_endpoint = {}
    for rule in app.url_map.iter_rules():
        by_endpoint.setdefault(rule.endpoint, rule)
    return app, by_endpoint


URL_APP, URL_RULES = _url_map_rules()



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
    return min(methods & set(UNSAFE))


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


_ROLE_MODEL = {"owner": "need_owner", "proposer": "proposer", "coord": "coordinator", "coord_other": "coordinator",
               "admin": "admin"}


def _visibility(arg: str):
    """(model, may_see(user, obj)) for the URL arguments that name an object with a visibility rule."""
    from oims.models import Meeting, Need, Organisation, Proposal
    from oims.policy.orgs import can_view_org
    from oims.policy.visibility import can_view_need, can_view_proposal

    return {
        "proposal_id": (Proposal, can_view_proposal),
        "meeting_id": (Meeting, lambda user, m: can_view_proposal(user, _db.session.get(Proposal, m.proposal_id))),
        "need_id": (Need, can_view_need),
        "org_id": (Organisation, can_view_org),
    }.get(arg)


# URL arguments that choose a variant of a page (a file format, a table), not an object.
_NOT_OBJECTS = {"name", "fmt", "kind", "table", "code", "filename", "decision"}


def deny_status(world: dict, endpoint: str, role: str, side: str) -> int:
    """The refusal the convention in access_rules.py expects: 403 or 404."""
    if endpoint in INCONSISTENT:
        return INCONSISTENT[endpoint][0]
    if role == "anon":
        return 404  # only link-token routes refuse a visitor instead of sending it to sign in
    from oims.models import User

    required = getattr(URL_APP.view_functions.get(endpoint), "required_roles", None)
    if required and _ROLE_MODEL[role] not in required:
        return 403
    declared, rule = RULES[endpoint], URL_RULES[endpoint]
    objects = [a for a in rule.arguments if a not in _NOT_OBJECTS]
    if not objects:
        return 403
    if endpoint in NOT_FOUND_UNLESS_MANAGER:
        return 404
    user = _db.session.get(User, world["users"][role])
    for arg in ("proposal_id", "meeting_id", "need_id", "org_id"):  # the most specific object decides
        if arg in objects:
            model, may_see = _visibility(arg)
            source = declared.params.get(arg, PARAM_DEFAULTS.get(arg))
            return 403 if may_see(user, _db.session.get(model, world[side][source])) else 404
    return 404


_SNAPSHOT: dict = {}


def _restore_world() -> dict:
    """The world, built once per process through the factories (that is, the
    app's services), then restored from a copy of its rows: the matrix and the
    form sweeps rebuild it after every request that changed something."""
    from sqlalchemy import select

    if not _SNAPSHOT:
        world = build_world(_db)
        rows = [(t, [dict(r._mapping) for r in _db.session.execute(select(t))]) for t in _db.metadata.sorted_tables]
        _SNAPSHOT.update(world=world, rows=rows)  # attachments' bytes are rows too (stored files)
        return world
    for table, rows in _SNAPSHOT["rows"]:
        if rows:
            _db.session.execute(table.insert(), rows)
    _db.session.commit()
    from oims.insight import cache  # bulk inserts skip the ORM hooks that invalidate the KPI cache

    cache.store(current_app).clear()
    return _SNAPSHOT["world"]


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
        # The last request's user is gone with the tables: the services that build
        # the world must not ask for its language (Flask-Login caches it in `g`).
        g.pop("_login_user", None)
        self.rebuilds += 1
        self.world = _restore_world()
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


    def request(self, endpoint: str, role: str, side: str, **extra):
        """Make the matrix request of `role` to `endpoint` with `side`'s objects:
        returns (response, method, url, classified outcome)."""
        self.fresh()
        method = method_for(endpoint)
        url = self.url(endpoint, side)
        api = is_api(endpoint)
        client = self.clients["anon" if api else role]
        headers = {}
        if api and (token := self.token(role)):
            headers["Authorization"] = f"Bearer {token}"
        kwargs = {"headers": headers}
        if method in UNSAFE:
            kwargs["json" if api else "data"] = self.data(endpoint, side)
        kwargs.update(extra)
        resp = client.open(url, method=method, **kwargs)
        got = classify(resp, api)
        if got == "503" and RULES[endpoint].unavailable_ok:
            got = "ok"
        if method in UNSAFE and got == "ok" and not RULES[endpoint].keeps_world:
            self.dirty = True  # it may have changed the world (a refused or invalid request must not have)
        return resp, method, url, got

    def data(self, endpoint: str, side: str) -> dict:
        ids = self.world[side]
        return {k: (v.value if isinstance(v, Lit) else str(ids[v])) for k, v in RULES[endpoint].data.items()}


def _build_path(rule, values: dict) -> str:
    adapter = rule.map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=None, force_external=False)


@contextmanager
def world_context(app):
    """Module-wide: an app and request context, a Matrix, empty tables after."""
    with app.app_context(), app.test_request_context():
        m = Matrix(app)
        try:
            yield m
        finally:
            _db.session.rollback()
            _empty_tables()
            _db.session.remove()


def expected(endpoint: str, role: str, side: str) -> str:
    value = RULES[endpoint].expect[role]
    if isinstance(value, tuple):
        return value[SIDES.index(side)]
    return value


