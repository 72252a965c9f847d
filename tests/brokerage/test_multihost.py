"""Two app instances (separate instance folders, two gunicorn workers each) on one
PostgreSQL: the index is a cache of the database, so a proposal submitted
through one is ranked by the other within seconds, and kill -9 of either host
in the middle of a burst loses nothing and indexes nothing twice.

PostgreSQL only (SQLite cannot be shared by hosts); starts servers: slow.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oims.extensions import db as _db
from oims.models import MatchCursor, MatchItem, Proposal

from ..conftest import TEST_DB_URL
from ..factories import PASSWORD

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PORTS = (5120, 5121, 5122)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RANKED_RE = re.compile(r'data-proposal-id="(\d+)">\s*<td>.*?</td>\s*<td>(\d+|—)</td>', re.DOTALL)

if not TEST_DB_URL.startswith(("postgresql", "postgres")):
    pytest.skip("multi-host test needs PostgreSQL: set OIMS_TEST_DATABASE_URL=postgresql://...",
                allow_module_level=True)


class Host:
    def __init__(self, port: int, instance: Path) -> None:
        self.port, self.instance = port, instance
        self.proc: subprocess.Popen | None = None
        self.log = instance.parent / f"host-{port}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import requests

        env = dict(os.environ)
        env.update({
            "OIMS_INSTANCE_PATH": str(self.instance), "OIMS_DATABASE_URL": TEST_DB_URL,
            "OIMS_SECRET_KEY": "multi-host-test-key", "OIMS_RATELIMIT_ENABLED": "0",
            "OIMS_ARGON2_TIME_COST": "1", "OIMS_ARGON2_MEMORY_KIB": "1024", "OIMS_MAIL_BACKEND": "log",
            "OIMS_MATCHING_ENABLED": "1", "OIMS_ENCODER": "use", "OIMS_INDEX_WORKER": "embedded",
            "OIMS_INDEX_LEASE_SECONDS": "3", "OIMS_INDEX_POLL_SECONDS": "0.3",
        })
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
               "--chdir", str(ROOT), "--timeout", "120", "--log-level", "warning", "wsgi:app"]
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("host did not start")

    def owns(self, pid: int) -> bool:
        try:
            return self.proc is not None and os.getpgid(pid) == self.proc.pid
        except ProcessLookupError:
            return False

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _login(base: str, email: str):
    import requests

    s = requests.Session()
    page = s.get(base + "/auth/login", timeout=30)
    r = s.post(base + "/auth/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": CSRF_RE.search(page.text).group(1)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 302 and "/auth/login" not in r.headers.get("Location", ""), r.status_code
    return s


def _submit(session, base: str, need_id: int, title: str) -> int | None:
    page = session.get(f"{base}/proposals/new", params={"need_id": need_id}, timeout=30)
    data = {"csrf_token": CSRF_RE.search(page.text).group(1), "title": title,
            "summary": "炭素繊維強化樹脂の射出成形で、アルミ部品比40%の軽量化を実現します。",
            "solution": f"独自の金型温度制御で薄肉成形を行います（{title}）。",
            "track_record": "自動車部品の樹脂化で10年の量産実績。", "team": "技術者5名", "action": "submit"}
    r = session.post(f"{base}/proposals/new", params={"need_id": need_id}, data=data,
                     allow_redirects=False, timeout=60)
    m = re.search(r"/proposals/(\d+)$", r.headers.get("Location", "")) if r.status_code == 302 else None
    return int(m.group(1)) if m else None


def _ranked(session, base: str, need_id: int) -> set[int]:
    html = session.get(f"{base}/brokerage/need/{need_id}", timeout=30).text
    return {int(pid) for pid, rank in RANKED_RE.findall(html) if rank != "—"}


def _wait_ranked(session, base: str, need_id: int, want: set[int], timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if want <= _ranked(session, base, need_id):
            return time.monotonic() - t0
        time.sleep(0.1)
    missing = want - _ranked(session, base, need_id)
    raise AssertionError(f"not ranked after {timeout} s: {sorted(missing)}")


def _wait_caught_up(session, base: str, need_id: int, timeout: float = 90) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        html = session.get(f"{base}/brokerage/need/{need_id}", timeout=30).text
        if 'data-matching="catching-up"' not in html and "ranked-h" in html:
            return
        time.sleep(0.3)
    raise AssertionError(f"{base} still catching up after {timeout} s")


@pytest.fixture
def world(factory, db):
    coord = factory.user("coordinator")
    needs = [factory.need() for _ in range(7)]
    proposers = [factory.user("proposer") for _ in range(4)]
    db.session.commit()
    return {"coord": coord.email, "need": needs[0].id, "burst_needs": [n.id for n in needs[1:]],
            "proposers": [u.email for u in proposers]}


@pytest.fixture
def hosts(tmp_path, world):
    made = [Host(port, tmp_path / f"instance-{port}") for port in PORTS]
    yield made
    for h in made:
        h.stop()


@pytest.mark.parametrize("victim", ["lease-holder", "follower"])
def test_two_hosts_converge_and_survive_kill9(hosts, world, victim):
    a, b, c = hosts
    a.start()
    b.start()
    need = world["need"]
    coord_b = _login(b.base, world["coord"])
    # Both hosts are up; the embedded workers repair the index at start, in the background.
    _wait_caught_up(coord_b, b.base, need)
    _wait_caught_up(_login(a.base, world["coord"]), a.base, need)

    # 1. Submitted through A, ranked by B within 5 s.
    prop_a = _login(a.base, world["proposers"][0])
    first = _submit(prop_a, a.base, need, "初回の提案")
    assert first is not None
    took = _wait_ranked(coord_b, b.base, need, {first}, timeout=5)
    print(f"convergence A -> B: {took:.2f} s")

    # 2. A burst through both hosts; kill -9 one of them in the middle.
    _db.session.rollback()
    owner = _db.session.scalar(select(MatchCursor.owner).where(MatchCursor.name == "worker"))
    holder = a if a.owns(int(owner.split(":")[1])) else b
    killed = holder if victim == "lease-holder" else (b if holder is a else a)
    survivor = b if killed is a else a
    sessions = {h.port: [_login(h.base, e) for e in world["proposers"]] for h in (a, b)}
    acked: list[int] = [first]
    lock = threading.Lock()

    def proposer(j: int) -> None:
        for i in range(6):
            host = (a, b)[(i + j) % 2]
            if host.proc.poll() is not None:
                host = survivor
            try:
                pid = _submit(sessions[host.port][j], host.base, world["burst_needs"][i], f"提案 {j}-{i}")
            except Exception:  # noqa: BLE001 - the killed host drops connections
                pid = None
            if pid:
                with lock:
                    acked.append(pid)
                    if len(acked) == 10:
                        killed.kill9()

    threads = [threading.Thread(target=proposer, args=(j,)) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert killed.proc.poll() is not None, "the burst ended before the kill"

    # 3. Nothing acknowledged is lost; everything stored is ranked by the survivor.
    _db.session.rollback()
    stored_by_need: dict[int, set[int]] = {}
    for pid, nid in _db.session.execute(select(Proposal.id, Proposal.need_id).where(Proposal.stage == "submitted")):
        stored_by_need.setdefault(nid, set()).add(pid)
    stored = set().union(*stored_by_need.values())
    assert set(acked) <= stored and len(acked) >= 10
    coord_s = coord_b if survivor is b else _login(survivor.base, world["coord"])
    for nid, pids in stored_by_need.items():
        _wait_ranked(coord_s, survivor.base, nid, pids, timeout=60)

    # 4. Nothing indexed twice: one stored item per proposal, exactly the stored proposals.
    _db.session.rollback()
    items = _db.session.execute(select(MatchItem.item_id, func.count(MatchItem.id))
                                .where(MatchItem.kind == "proposals").group_by(MatchItem.item_id)).all()
    _db.session.rollback()
    assert {i for i, _n in items} == stored and all(n == 1 for _i, n in items)

    # 5. A new host builds its index from the stored vectors and ranks everything at once.
    c.start()
    coord_c = _login(c.base, world["coord"])
    for nid, pids in stored_by_need.items():
        _wait_ranked(coord_c, c.base, nid, pids, timeout=30)
