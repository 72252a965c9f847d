"""Shared pieces of the load, crash and page-latency benchmarks.

Everything runs on 127.0.0.1: a fresh database (a SQLite file, or a
PostgreSQL database of its own), the app under gunicorn (several sync
workers, the production server of README "Deployment"), and HTTP clients
that sign in and submit the real forms with their CSRF tokens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-horse-battery-42"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary_ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"p50 {percentile(values, 50) * 1000:.0f} ms, p95 {percentile(values, 95) * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms, mean {statistics.fmean(values) * 1000:.0f} ms (n={len(values)})")


def free_port() -> int:
    """A free port; inside OIMS_BENCH_PORTS (e.g. 5120-5129) when set, for shared machines."""
    lo, _, hi = os.environ.get("OIMS_BENCH_PORTS", "").partition("-")
    for port in range(int(lo), int(hi or lo) + 1) if lo else []:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            if port not in _TAKEN:
                _TAKEN.add(port)
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_TAKEN: set[int] = set()  # handed out but perhaps not bound yet (servers start one after another)


# --- database ------------------------------------------------------------------------------

@dataclass
class BenchEnv:
    db: str  # sqlite | postgres
    name: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="oims-bench-")))
    pg_base: str = DEFAULT_PG
    matching: bool = True
    encoder: str = "use"

    def __post_init__(self) -> None:
        # On a shared server each session names its databases after itself (e.g. OIMS_BENCH_DB_PREFIX=oims_pn_).
        self.name = os.environ.get("OIMS_BENCH_DB_PREFIX", "") + self.name

    @property
    def url(self) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        return f"{self.pg_base}/{self.name}"

    def environ(self) -> dict:
        env = dict(os.environ)
        env.update({
            "OIMS_BENCH_INSTANCE": str(self.workdir / "instance"),
            "OIMS_DATABASE_URL": self.url,
            "OIMS_SECRET_KEY": "bench-secret-key",
            "OIMS_RATELIMIT_ENABLED": "0",
            # Cheap password hashing: the benchmark measures proposals, not 50 logins of argon2 at 64 MiB.
            "OIMS_ARGON2_TIME_COST": "1", "OIMS_ARGON2_MEMORY_KIB": "1024",
            "OIMS_MAIL_BACKEND": "log",
            "OIMS_MATCHING_ENABLED": "1" if self.matching else "0",
            "OIMS_ENCODER": self.encoder,
            "OIMS_UPLOAD_DIR": str(self.workdir / "uploads"),
            "OIMS_BASE_URL": "http://127.0.0.1",
            "OIMS_SERVER_TIMING": "1",  # the benches report the app's own time beside the client's
        })
        return env

    def fresh_database(self) -> None:
        if self.db == "postgres":
            import psycopg

            with psycopg.connect(f"{self.pg_base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.db == "postgres":
            import psycopg

            with psycopg.connect(f"{self.pg_base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.workdir, ignore_errors=True)

    def app(self):
        """The app in this process, on the benchmark's database (for setup and checks)."""
        os.environ.update({k: v for k, v in self.environ().items() if k.startswith("OIMS_")})
        from oims import create_app

        return create_app({"INSTANCE_PATH": str(self.workdir / "instance")})


# --- data ------------------------------------------------------------------------------------

def make_schema(app) -> None:
    from oims.extensions import db

    with app.app_context():
        db.drop_all()
        db.create_all()


def seed_needs_and_proposers(app, *, needs: int, proposers: int) -> dict:
    """One large firm with `needs` published needs (Kanto), and `proposers` SMEs
    each with one user; returns ids and e-mails."""
    from oims.auth.passwords import hash_password
    from oims.extensions import db
    from oims.models import Need, Organisation, User
    from oims.models.base import utcnow

    with app.app_context():
        owner_org = Organisation(name="東都モビリティ工業", kind="large", industry="E", employee_band="1001+")
        owner_org.set_prefecture("13")
        db.session.add(owner_org)
        db.session.flush()
        pw = hash_password(PASSWORD)
        owner = User(email="owner@bench.example.jp", name="田中", password_hash=pw, role="need_owner",
                     organisation_id=owner_org.id, is_org_admin=True)
        coord_org = Organisation(name="関東経済産業局", kind="support", industry="S", employee_band="1001+")
        coord_org.set_prefecture("13")
        db.session.add_all([owner, coord_org])
        db.session.flush()
        coord = User(email="coord@bench.example.jp", name="佐藤", password_hash=pw, role="coordinator",
                     organisation_id=coord_org.id, is_org_admin=True)
        db.session.add(coord)
        need_ids = []
        for i in range(needs):
            n = Need(owner_org_id=owner_org.id, created_by_id=owner.id, status="published", bureau="kanto",
                     title=f"軽量化部材の共同開発 {i}", summary="電動車向けに高強度樹脂部材の共同開発先を探しています。",
                     background="車体の軽量化", sought="CFRP射出成形", partnership_types=["joint_rnd"],
                     keywords=["軽量化", "CFRP"], deadline=date.today() + timedelta(days=60),
                     published_at=utcnow())
            n.search_text = n.matching_text().lower()
            db.session.add(n)
            db.session.flush()
            need_ids.append(n.id)
        emails = []
        for j in range(proposers):
            org = Organisation(name=f"ベンチ精工{j}", kind="sme", industry="E", employee_band="21-50",
                               profile="炭素繊維強化樹脂の射出成形", technologies=["CFRP"])
            org.set_prefecture("14")
            db.session.add(org)
            db.session.flush()
            email = f"proposer{j}@bench.example.jp"
            db.session.add(User(email=email, name=f"提案者{j}", password_hash=pw, role="proposer",
                                organisation_id=org.id, is_org_admin=True))
            emails.append(email)
        db.session.commit()
        return {"need_ids": need_ids, "proposer_emails": emails, "owner": owner.email, "coord": coord.email}


# --- gunicorn ----------------------------------------------------------------------------------

class Server:
    """One gunicorn host. `host` > 0 gives it an instance folder of its own (a
    separate machine as far as the app can tell); `extra_env` overrides OIMS_*."""

    def __init__(self, env: BenchEnv, workers: int = 4, port: int | None = None, *, host: int = 0,
                 extra_env: dict | None = None, threads: int = 1, keep_alive: int | None = None):
        self.env = env
        self.workers = workers
        self.threads = threads  # > 1: gunicorn's gthread workers, `threads` requests at a time each
        self.keep_alive = keep_alive  # seconds (gthread); 0: a connection per request, spread over the workers
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = env.workdir / f"gunicorn-{self.port}.log"
        self.extra_env = dict(extra_env or {})
        if host:
            self.extra_env["OIMS_BENCH_INSTANCE"] = str(env.workdir / f"instance-host{host}")

    def environ(self) -> dict:
        return {**self.env.environ(), **self.extra_env}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(self.workers), "--threads", str(self.threads),
               "--bind", f"127.0.0.1:{self.port}", "--chdir", str(ROOT), "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
               "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning", "load_wsgi:app"]
        if self.keep_alive is not None:
            cmd[1:1] = ["--keep-alive", str(self.keep_alive)]
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, env=self.environ(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log}\n{self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def kill9(self) -> None:
        """SIGKILL the master and every worker (the whole process group we started)."""
        if self.proc is not None:
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


class Worker:
    """`flask oims worker`: the encoding worker of a multi-host deployment."""

    def __init__(self, env: BenchEnv, name: str = "worker"):
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.log = env.workdir / f"{name}.log"

    def start(self) -> None:
        environ = {**self.env.environ(), "FLASK_APP": str(ROOT / "bench" / "load_wsgi.py"),
                   "OIMS_BENCH_INSTANCE": str(self.env.workdir / "instance-worker"),
                   "PYTHONPATH": str(ROOT)}  # this checkout's oims, whatever the venv has installed
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "flask", "oims", "worker"],
                                         cwd=str(ROOT), env=environ, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- HTTP client -------------------------------------------------------------------------------

def csrf(html: str) -> str:
    m = CSRF_RE.search(html)
    if not m:
        raise RuntimeError("no CSRF token in the page")
    return m.group(1)


def http_login(session, base: str, email: str) -> None:
    page = session.get(base + "/auth/login", timeout=30)
    resp = session.post(base + "/auth/login", data={"email": email, "password": PASSWORD,
                                                   "csrf_token": csrf(page.text)},
                        allow_redirects=False, timeout=30)
    if resp.status_code != 302 or "/auth/login" in resp.headers.get("Location", ""):
        raise RuntimeError(f"login failed for {email}: {resp.status_code}")


PROPOSAL_RE = re.compile(r"/proposals/(\d+)$")


TIMING_RE = re.compile(r'(\w+);dur=([\d.]+)(?:;desc="(\d+) statements")?')


def server_timing(resp) -> dict | None:
    """The app's own account of a request (OIMS_SERVER_TIMING=1, oims/web/server_timing.py):
    {"app", "cpu", "db"} in seconds and "statements", or None without the header."""
    header = resp.headers.get("Server-Timing")
    if not header:
        return None
    out: dict = {}
    for name, dur, statements in TIMING_RE.findall(header):
        out[name] = float(dur) / 1000
        if statements:
            out["statements"] = int(statements)
    return out


def timing_summary(timings: list[dict]) -> str:
    """p50/p95 of the server's wall and CPU time, SQL time and statements."""
    if not timings:
        return "no Server-Timing headers (OIMS_SERVER_TIMING=1 on the server)"

    def p(key: str, q: float) -> float:
        return percentile([t[key] for t in timings if key in t], q)

    return (f"server wall p50 {p('app', 50) * 1000:.1f} ms, p95 {p('app', 95) * 1000:.1f} ms; "
            f"CPU p50 {p('cpu', 50) * 1000:.1f} ms, p95 {p('cpu', 95) * 1000:.1f} ms; "
            f"SQL p50 {p('db', 50) * 1000:.1f} ms in {p('statements', 50):.0f} statements (n={len(timings)})")


def submit_proposal(session, base: str, need_id: int, title: str,
                    timings: dict[str, list] | None = None) -> tuple[int | None, float, int]:
    """Open the form, submit it. Returns (proposal id if acknowledged, POST seconds, status).
    `timings`: the Server-Timing of the form page and of the POST are appended to
    timings["form"] and timings["post"] (when the server sends them)."""
    page = session.get(f"{base}/proposals/new", params={"need_id": need_id}, timeout=60)
    if timings is not None and (st := server_timing(page)):
        timings.setdefault("form", []).append(st)
    data = {"csrf_token": csrf(page.text), "title": title,
            "summary": "炭素繊維強化樹脂の射出成形で、アルミ部品比40%の軽量化を実現します。",
            "solution": "独自の金型温度制御で薄肉成形を行い、量産試作まで3か月で対応します。",
            "track_record": "自動車部品の樹脂化で10年の量産実績。", "team": "技術者5名", "action": "submit"}
    t0 = time.perf_counter()
    resp = session.post(f"{base}/proposals/new", params={"need_id": need_id}, data=data,
                        allow_redirects=False, timeout=120)
    took = time.perf_counter() - t0
    if timings is not None and resp.status_code == 302 and (st := server_timing(resp)):
        timings.setdefault("post", []).append(st)
    m = PROPOSAL_RE.search(resp.headers.get("Location", "")) if resp.status_code == 302 else None
    return (int(m.group(1)) if m else None), took, resp.status_code


# --- CPU accounting ------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """(process group, CPU seconds user+system) of a live process, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK


def group_cpu(pgid: int) -> float:
    """CPU seconds of the live processes in a process group (a gunicorn host, the worker)."""
    total = 0.0
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit() and (got := _proc_cpu(int(name))) and got[0] == pgid:
            total += got[1]
    return total


def postgres_cpu(env: BenchEnv) -> float:
    """CPU seconds of the PostgreSQL backends connected to the bench's database (same machine)."""
    if env.db != "postgres":
        return 0.0
    import psycopg

    with psycopg.connect(f"{env.pg_base}/postgres", autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (env.name,))]
    return sum(got[1] for pid in pids if (got := _proc_cpu(pid)))


class CpuMeter:
    """CPU seconds spent by each part of the bench between start() and stop():
    the gunicorn hosts, the encoding worker, PostgreSQL's backends for the
    bench's database (those alive at the end; the apps keep pooled connections)
    and this client process."""

    def __init__(self, env: BenchEnv, servers: list, worker=None):
        self.env, self.servers, self.worker = env, servers, worker

    def _read(self) -> dict[str, float]:
        out = {"web": sum(group_cpu(s.proc.pid) for s in self.servers if s.proc)}
        if self.worker is not None and self.worker.proc is not None:
            out["worker"] = group_cpu(self.worker.proc.pid)
        out["postgres"] = postgres_cpu(self.env)
        t = os.times()
        out["client"] = t.user + t.system
        return out

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict[str, float]:
        after = self._read()
        return {k: after[k] - self.before.get(k, 0.0) for k in after}


def cpu_summary(used: dict[str, float], n: int, wall: float) -> str:
    total = sum(used.values())
    parts = ", ".join(f"{k} {v / n * 1000:.1f}" for k, v in used.items())
    return (f"CPU per acknowledged proposal (ms): {parts}; total {total / n * 1000:.1f} ms "
            f"= {total / wall:.2f} of the 2 cores over the burst")


# --- checks ------------------------------------------------------------------------------------

def check_stored(app, acked: dict[int, str]) -> dict:
    """Every acknowledged proposal (id -> title) stored exactly once, complete;
    and no half-written proposal anywhere."""
    from sqlalchemy import func, select

    from oims.extensions import db
    from oims.models import Proposal, ProposalEvent
    from oims.proposals.receipts import verify_receipt

    problems = []
    with app.app_context():
        rows = db.session.scalars(select(Proposal)).all()
        by_title: dict[str, list[Proposal]] = {}
        for p in rows:
            by_title.setdefault(p.title, []).append(p)
        events = dict(db.session.execute(select(ProposalEvent.proposal_id, func.count(ProposalEvent.id))
                                         .where(ProposalEvent.to_stage == "submitted")
                                         .group_by(ProposalEvent.proposal_id)).all())
        for pid, title in acked.items():
            same = by_title.get(title, [])
            if len(same) != 1 or same[0].id != pid:
                problems.append(f"acknowledged #{pid} {title!r}: {len(same)} rows")
        for p in rows:
            if p.stage != "submitted":
                problems.append(f"#{p.id} stage {p.stage}")
            elif not (p.submitted_at and p.receipt_hash and verify_receipt(p.receipt_content, p.receipt_hash)):
                problems.append(f"#{p.id} half-written: submitted without a valid receipt")
            elif events.get(p.id, 0) != 1:
                problems.append(f"#{p.id} has {events.get(p.id, 0)} 'submitted' events")
        dupes = db.session.execute(select(Proposal.need_id, Proposal.org_id, func.count(Proposal.id))
                                   .group_by(Proposal.need_id, Proposal.org_id)
                                   .having(func.count(Proposal.id) > 1)).all()
        problems += [f"need {n} org {o}: {c} proposals" for n, o, c in dupes]
        return {"rows": len(rows), "acknowledged": len(acked),
                "unacknowledged_but_stored": len([p for p in rows if p.id not in acked]), "problems": problems}


def index_state(app, settle_seconds: float = 60.0) -> dict:
    """The matcher's stored proposals (MatchItem, what every host's index is built
    from) compared with the database, once the encoding worker has handled the
    change log (or the wait ran out: pass 0 when no worker runs)."""
    from sqlalchemy import func, select

    from oims.extensions import db
    from oims.matcher import service as ms
    from oims.models import MatchItem, Proposal

    with app.app_context():
        svc = ms.service(app)
        if not svc.enabled:
            return {"enabled": False}
        t0 = time.monotonic()
        while time.monotonic() - t0 < settle_seconds and svc.pending(db.session):
            db.session.rollback()
            time.sleep(0.2)
        should = set(db.session.scalars(select(Proposal.id).where(
            Proposal.stage.notin_(ms.UNINDEXED_PROPOSAL_STAGES))))
        rows = db.session.execute(select(MatchItem.item_id, func.count(MatchItem.id)).where(
            MatchItem.kind == "proposals").group_by(MatchItem.item_id)).all()
        have = {i for i, _n in rows}
        queued = svc.pending(db.session)
        db.session.rollback()
        return {"enabled": True, "db": len(should), "index": len(have), "missing": len(should - have),
                "stray": len(have - should), "twice": sum(1 for _i, n in rows if n > 1), "queued": queued}


def repair_index(app) -> dict:
    """What a worker does at start (and `flask oims reindex --changed-only`), inline."""
    from oims.matcher import service as ms

    with app.app_context():
        t0 = time.perf_counter()
        report = ms.reindex(force=False)
        return {"report": report, "seconds": round(time.perf_counter() - t0, 2)}
