"""The production limiter store: Redis, shared by every gunicorn worker and
host. Two app instances in two processes count sign-in failures together.

Runs against the real Redis at OIMS_TEST_REDIS_URL (default
redis://127.0.0.1:6379/6). Outside CI the tests skip, saying why, when no
Redis answers; in CI (CI set) that is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("OIMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
ROOT = Path(__file__).resolve().parents[2]
EMAIL = "target@example.jp"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); the shared limiter store is not tested here")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    """A key prefix of this test only, removed afterwards."""
    value = f"oims-test-{secrets.token_hex(6)}"
    yield value
    for key in redis_client.scan_iter(f"*{value}*"):
        redis_client.delete(key)


# The other instance: a separate process, configured the way production is,
# through the environment (OIMS_RATELIMIT_STORAGE_URI, OIMS_LOGIN_RATE ...).
OTHER_INSTANCE = textwrap.dedent("""
    import json, sys, tempfile
    from oims import create_app
    from oims.extensions import db
    inst = tempfile.mkdtemp(prefix="oims-h6-other-")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": inst,
                      "SQLALCHEMY_DATABASE_URI": "sqlite:///" + inst + "/db.sqlite3",
                      "WTF_CSRF_ENABLED": False, "OIMS_ARGON2_TIME_COST": 1, "OIMS_ARGON2_MEMORY_KIB": 1024,
                      "OIMS_MATCHING_ENABLED": False})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [client.post("/auth/login", data={"email": sys.argv[1], "password": "wrong-pass-000"}).status_code
             for _ in range(int(sys.argv[2]))]
    print(json.dumps({"codes": codes, "storage": app.config["RATELIMIT_STORAGE_URI"]}))
""")


def _other_instance_fails(prefix: str, times: int) -> dict:
    env = dict(os.environ, OIMS_RATELIMIT_STORAGE_URI=REDIS_URL, OIMS_RATELIMIT_KEY_PREFIX=prefix,
               OIMS_RATELIMIT_ENABLED="1", OIMS_LOGIN_RATE="3 per minute", OIMS_LOGIN_IP_RATE="100 per minute",
               PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", OTHER_INSTANCE, EMAIL, str(times)], check=False, cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _this_instance(variant_app, prefix: str, monkeypatch):
    # One Limiter object serves every app of a process and keeps the first
    # app's key prefix; production has one app per process. Give this test's
    # app its own prefix the way its configuration says.
    from oims.extensions import limiter

    monkeypatch.setattr(limiter, "_key_prefix", prefix)
    return variant_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                       OIMS_LOGIN_RATE="3 per minute", OIMS_LOGIN_IP_RATE="100 per minute")


def test_two_instances_share_the_failure_count(variant_app, redis_client, prefix, monkeypatch):
    other = _other_instance_fails(prefix, 3)
    assert other == {"codes": [400, 400, 400], "storage": REDIS_URL}
    # The counts are in Redis DB 6, under this deployment's prefix ...
    keys = [k.decode() for k in redis_client.scan_iter(f"*{prefix}*")]
    assert any("login-account:" + EMAIL in k for k in keys), keys
    # ... so this instance, in another process, refuses the fourth failure at once.
    app = _this_instance(variant_app, prefix, monkeypatch)
    with app.test_client() as c:
        c.post("/lang/en")
        resp = c.post("/auth/login", data={"email": EMAIL, "password": "wrong-pass-000"})
        assert resp.status_code == 429
        assert int(resp.headers["Retry-After"]) > 0
        assert "Try again in" in resp.get_data(as_text=True)
    # Control: another deployment (prefix) on the same Redis counts on its own,
    # so the refusal above comes from the shared count and nothing else.
    elsewhere = _this_instance(variant_app, prefix + "-elsewhere", monkeypatch)
    with elsewhere.test_client() as c:
        assert c.post("/auth/login", data={"email": EMAIL, "password": "wrong-pass-000"}).status_code == 400


def test_successes_are_not_stored(variant_app, redis_client, prefix, factory, monkeypatch):
    from ..factories import login

    app = _this_instance(variant_app, prefix, monkeypatch)
    user = factory.user("proposer")
    for _ in range(5):
        with app.test_client() as c:
            assert login(c, user).status_code == 302
    assert not [k for k in redis_client.scan_iter(f"*{prefix}*") if b"login-" in k]


@pytest.mark.slow
def test_gunicorn_workers_share_the_count_over_http(redis_client, prefix, tmp_path):
    """The production path: gunicorn with three workers on 127.0.0.1:5160,
    configured only through OIMS_* variables, real HTTP. Each request opens a
    new connection, so the workers take turns; the limit still holds exactly."""
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    prepare = ("from oims import create_app; from oims.extensions import db\n"
               f"app = create_app({{'INSTANCE_PATH': {str(tmp_path)!r}, 'SQLALCHEMY_DATABASE_URI': {db_url!r}}})\n"
               "app.app_context().push(); db.create_all()")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OIMS_DATABASE_URL=db_url, OIMS_SECRET_KEY="x" * 32,
               OIMS_RATELIMIT_STORAGE_URI=REDIS_URL, OIMS_RATELIMIT_KEY_PREFIX=prefix,
               OIMS_LOGIN_RATE="5 per minute", OIMS_LOGIN_IP_RATE="100 per minute", OIMS_MATCHING_ENABLED="0",
               OIMS_INDEX_IN_BACKGROUND="0", OIMS_DEFAULT_LOCALE="en")
    subprocess.run([sys.executable, "-c", prepare], cwd=ROOT, env=env, check=True, timeout=120,
                   capture_output=True)
    port = 5160
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "3", "--timeout", "120",
                               "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=60).close()
                break
            except OSError:  # refused, reset or timed out while the workers boot
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)

        def fail_once() -> tuple[int, str | None]:
            # A browser's way: fetch the form (session cookie, CSRF token), post a wrong password.
            import http.cookiejar
            import re

            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            with opener.open(base + "/auth/login", timeout=60) as resp:
                token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.read().decode()).group(1)
            body = urllib.parse.urlencode({"email": EMAIL, "password": "wrong-pass-000",
                                           "csrf_token": token}).encode()
            try:
                with opener.open(base + "/auth/login", data=body, timeout=60) as resp:
                    return resp.status, None
            except urllib.error.HTTPError as err:
                err.close()
                return err.code, err.headers.get("Retry-After")

        results = [fail_once() for _ in range(6)]
        assert [code for code, _ in results] == [400] * 5 + [429], results
        assert int(results[-1][1]) > 0
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
