"""Sign-in limits count failures only, per account and per address, and a
429 says when to retry (Retry-After header and the time in the message)."""

from __future__ import annotations

import re

from ..factories import PASSWORD, login

WRONG = "wrong-pass-000"


def _post(client, email, password, addr="10.0.0.1"):
    return client.post("/auth/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def test_successes_never_count_office_behind_one_address(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="3 per minute", OIMS_LOGIN_IP_RATE="3 per minute")
    users = [cast.owner for _ in range(4)]
    # Twelve successful sign-ins from one office address: four times the limit.
    for _round in range(3):
        for user in users:
            with app.test_client() as c:
                assert _post(c, user.email, PASSWORD).status_code == 302


def test_failures_limited_per_address(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="50 per minute", OIMS_LOGIN_IP_RATE="3 per minute")
    users = [cast.proposer for _ in range(4)]
    with app.test_client() as c:
        # Three failures on three different accounts from one address ...
        assert [_post(c, u.email, WRONG).status_code for u in users[:3]] == [400, 400, 400]
        # ... and the address is limited, even for a fourth account with its right password.
        resp = _post(c, users[3].email, PASSWORD)
        assert resp.status_code == 429
        # Another address is not.
        assert _post(c, users[3].email, PASSWORD, addr="10.0.0.2").status_code == 302


def test_failures_limited_per_account_across_addresses(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="3 per minute", OIMS_LOGIN_IP_RATE="50 per minute")
    target, bystander = cast.proposer, cast.other_proposer
    with app.test_client() as c:
        codes = [_post(c, target.email.upper(), WRONG, addr=f"10.1.0.{i}").status_code for i in range(3)]
        assert codes == [400, 400, 400]
        assert _post(c, target.email, PASSWORD, addr="10.1.0.99").status_code == 429
        assert _post(c, bystander.email, PASSWORD, addr="10.1.0.99").status_code == 302


def test_429_says_when_to_retry(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="2 per minute")
    user = cast.proposer
    with app.test_client() as c:
        c.post("/lang/en")
        for _ in range(2):
            assert _post(c, user.email, WRONG).status_code == 400
        resp = _post(c, user.email, WRONG)
        assert resp.status_code == 429
        seconds = int(resp.headers["Retry-After"])
        assert 0 < seconds <= 60
        text = resp.get_data(as_text=True)
        m = re.search(r"Try again in (\d+) seconds \(at (\d\d:\d\d:\d\d)\)", text)
        assert m, text[:2000]
        assert abs(int(m.group(1)) - seconds) <= 1
        assert "Too many failed sign-in attempts" in text


def test_429_in_japanese_by_default(variant_app, cast):
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="1 per minute")
    user = cast.proposer
    with app.test_client() as c:
        assert _post(c, user.email, WRONG).status_code == 400
        resp = _post(c, user.email, WRONG)
        assert resp.status_code == 429 and resp.headers["Retry-After"].isdigit()
        assert re.search(r"\d+ 秒後", resp.get_data(as_text=True))


def test_api_429_problem_has_retry_after(variant_app, cast, db):
    from ..security.world import api_token_for

    app = variant_app(RATELIMIT_ENABLED=True, OIMS_API_RATE="2 per minute")
    user = cast.proposer
    token = api_token_for(db, user)
    with app.test_client() as c:
        for _ in range(2):
            assert c.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        resp = c.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 429 and resp.content_type == "application/problem+json"
        body = resp.get_json()
        assert int(resp.headers["Retry-After"]) == body["retry_after"] > 0


def test_successful_login_after_failures_does_not_reset_or_add(variant_app, cast):
    """Two failures, a success, a failure: the account is limited at the 3rd failure, not before."""
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="3 per minute", OIMS_LOGIN_IP_RATE="50 per minute")
    user = cast.proposer
    with app.test_client() as c:
        assert [_post(c, user.email, WRONG).status_code for _ in range(2)] == [400, 400]
    with app.test_client() as c:
        assert login(c, user).status_code == 302
    with app.test_client() as c:
        assert _post(c, user.email, WRONG).status_code == 400
        assert _post(c, user.email, PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_addresses_are_the_clients(variant_app, cast):
    """With OIMS_TRUSTED_PROXIES=1 the per-address limit uses X-Forwarded-For,
    so one attacker behind the proxy does not lock out everyone else."""
    app = variant_app(RATELIMIT_ENABLED=True, OIMS_LOGIN_RATE="50 per minute", OIMS_LOGIN_IP_RATE="2 per minute",
                      OIMS_TRUSTED_PROXIES=1)
    users = [cast.proposer for _ in range(3)]
    with app.test_client() as c:
        def post(user, password, client_addr):
            return c.post("/auth/login", data={"email": user.email, "password": password},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": client_addr})

        assert [post(users[0], WRONG, "203.0.113.9").status_code for _ in range(2)] == [400, 400]
        assert post(users[1], PASSWORD, "203.0.113.9").status_code == 429
        assert post(users[2], PASSWORD, "198.51.100.7").status_code == 302
