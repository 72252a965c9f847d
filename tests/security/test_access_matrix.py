"""The access matrix: every route of the URL map × every role × own/another's object.

Expectations live in ONE table, `access_rules.RULES`. The cases are generated
from the app's URL map, so a new route without a declared rule fails here.

One world (two bureaus, see world.py) is shared by the whole module; a
request that may have changed it (an accepted POST) makes the next case
rebuild it, so every case starts from the same state.
"""

from __future__ import annotations

import pytest

from .access_rules import RULES
from .harness import (
    ACCEPTS,
    URL_APP,
    URL_RULES,
    deny_status,
    expected,
    world_context,
)
from .world import ROLES, SIDES

ENDPOINTS = sorted(set(URL_RULES) | set(RULES))


@pytest.fixture(scope="module")
def matrix(app):
    with world_context(app) as m:
        yield m


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_access(matrix, endpoint, role, side):
    if endpoint not in URL_RULES:
        pytest.fail(f"{endpoint} is declared in RULES but is not a route any more")
    if endpoint not in RULES:
        pytest.fail(f"{endpoint} ({URL_RULES[endpoint].rule}) has no access rule in tests/security/access_rules.py")
    resp, method, url, got = matrix.request(endpoint, role, side)
    want = expected(endpoint, role, side)
    assert got in ACCEPTS[want], (
        f"{method} {url} as {role} on {side} object: got {resp.status_code} "
        f"{resp.headers.get('Location', '')} ({got}), expected {want}"
    )
    if want == "deny":  # which refusal: see the convention in access_rules.py
        status = deny_status(matrix.world, endpoint, role, side)
        assert resp.status_code == status, f"{method} {url} as {role} on {side} object: {resp.status_code}, not {status}"


def test_every_endpoint_has_a_rule():
    missing = sorted(set(URL_RULES) - set(RULES))
    stale = sorted(set(RULES) - set(URL_RULES))
    assert not missing, f"routes without an access rule: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_roles_required_matches_table():
    """Views guarded with roles_required(...) refuse every other role in the table too."""
    role_of = {"owner": "need_owner", "proposer": "proposer", "coord": "coordinator", "coord_other": "coordinator"}
    for endpoint in URL_RULES:
        required = getattr(URL_APP.view_functions.get(endpoint), "required_roles", None)
        if not required or endpoint not in RULES:
            continue
        for role, model_role in role_of.items():
            if model_role not in required:
                for side in SIDES:
                    assert expected(endpoint, role, side) == "deny", (endpoint, role, side)
