"""Profile one submission POST in process (issue 12: "server time per request ≤ 25 ms").

    .venv/bin/python bench/profile_submit.py --instance /tmp/demo_inst         # copies it, demo data on SQLite
    .venv/bin/python bench/profile_submit.py --instance /tmp/demo_inst --n 60 --cprofile 25
    .venv/bin/python bench/profile_submit.py --database-url postgresql://postgres@127.0.0.1:5432/oims_pp_demo

The app runs in this process on a copy of a demo database (SQLite: the instance
folder is copied, the original is never changed; PostgreSQL: a database that
already holds the demo data, e.g. `flask db upgrade && flask oims demo` on it —
the bench works on a copy made with CREATE DATABASE … TEMPLATE and drops it). Setup (not measured): `--n` proposer
organisations in the Kanto bureau, one user each, signed in by putting the
user into the session cookie as Flask-Login does (no Argon2 on the measured
path). Measured: the POST /proposals/new?need_id=N with action=submit of the
real form (CSRF off, as in the test client), one per organisation, to the
published needs in turn. Printed per request: wall time, CPU time of the
request's thread, SQL statements, flushes and the commit's time; `--cprofile K`
adds the K most expensive functions (cumulative) over all measured requests.
Matching is on; the index worker is external by default (the multi-host
deployment: the request only appends the change log), `--embedded` keeps the
in-process worker thread of `make run`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _line(name: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    return (f"{name:<22} p50 {_pct(values, 50) * scale:7.1f} {unit}  p95 {_pct(values, 95) * scale:7.1f} {unit}  "
            f"mean {statistics.fmean(values) * scale:7.1f} {unit}  min {min(values) * scale:7.1f} {unit}")


def _args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instance", help="instance folder holding a demo oims.sqlite3 (copied, never changed)")
    ap.add_argument("--database-url", help="a PostgreSQL database that holds the demo data")
    ap.add_argument("--n", type=int, default=40, help="measured submissions")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--embedded", action="store_true", help="in-process index worker thread (make run)")
    ap.add_argument("--no-matching", action="store_true")
    ap.add_argument("--form-page", action="store_true", help="measure the GET of the form page instead")
    ap.add_argument("--cprofile", type=int, default=0, metavar="K")
    ap.add_argument("--cprofile-out", metavar="FILE", help="also write the raw profile (pstats) to FILE")
    ap.add_argument("--statements", action="store_true", help="print the SQL of the last request")
    args = ap.parse_args()
    if not (args.instance or args.database_url):
        ap.error("--instance or --database-url")
    return args


def _environment(args, inst: Path) -> str | None:
    if args.instance:
        shutil.copytree(args.instance, inst)
    else:
        inst.mkdir()
    os.environ.update({
        "OIMS_SECRET_KEY": "profile-secret", "OIMS_RATELIMIT_ENABLED": "0", "OIMS_MAIL_BACKEND": "log",
        "OIMS_MATCHING_ENABLED": "0" if args.no_matching else "1",
        "OIMS_INDEX_WORKER": "embedded" if args.embedded else "external",
        "OIMS_BASE_URL": "http://127.0.0.1",
    })
    if args.database_url:  # measured on a copy (CREATE DATABASE … TEMPLATE), dropped at the end
        copy_url = _pg_copy(args.database_url)
        os.environ["OIMS_DATABASE_URL"] = copy_url
        return copy_url
    os.environ.pop("OIMS_DATABASE_URL", None)
    return None


def _setup(app, total: int) -> tuple[list[int], list[str], str]:
    """Published needs that accept proposals, and `total` signed-up proposers (ids for the session)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from oims.extensions import db
    from oims.models import Need, Organisation, User
    from oims.needs.services import accepts_proposals

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))  # a copy made by an older tree
        needs = [n.id for n in db.session.scalars(select(Need).where(Need.status == "published").order_by(Need.id))
                 if accepts_proposals(n)]
        if not needs:
            raise SystemExit("no published need accepts proposals in this database")
        tag = str(int(time.time()))[-6:]
        users = []
        for i in range(total):
            org = Organisation(name=f"計測精工{tag}-{i}", kind="sme", industry="E", employee_band="21-50",
                               profile="炭素繊維強化樹脂の射出成形", technologies=["CFRP"])
            org.set_prefecture("14")
            db.session.add(org)
            db.session.flush()
            user = User(email=f"profile{tag}-{i}@bench.example.jp", name=f"計測{i}", password_hash="x",
                        role="proposer", organisation_id=org.id, is_org_admin=True)
            db.session.add(user)
            db.session.flush()
            users.append(user.get_id())
        db.session.commit()
        db.session.remove()
    return needs, users, tag


FORM = {"title": "", "summary": "炭素繊維強化樹脂の射出成形で、アルミ部品比40%の軽量化を実現します。",
        "solution": "独自の金型温度制御で薄肉成形を行い、量産試作まで3か月で対応します。",
        "track_record": "自動車部品の樹脂化で10年の量産実績。", "team": "技術者5名", "action": "submit"}


class Counter:
    """SQL statements of this thread (not the index follower's polling), flushes, time in commit."""

    def __init__(self, app):
        from sqlalchemy import event

        from oims.extensions import db

        self.thread = threading.get_ident()
        self.statements, self.flushes, self.commit_seconds = 0, 0, 0.0
        self.sql: list[str] = []
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.session, "after_flush", self._flush)

    def reset(self) -> None:
        self.statements, self.flushes, self.commit_seconds = 0, 0, 0.0
        self.sql.clear()

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == self.thread:
            self.statements += 1
            self.sql.append(statement.split("\n")[0][:160])

    def _flush(self, session, ctx):
        self.flushes += 1


def _measure(app, args, needs, users, tag, counter: Counter) -> dict:
    from oims.extensions import db

    out = {"wall": [], "cpu": [], "statements": [], "flushes": [], "commit": []}
    profiler = cProfile.Profile() if args.cprofile else None
    original_commit = db.session.commit

    def timed_commit(*a, **kw):
        t = time.perf_counter()
        try:
            return original_commit(*a, **kw)
        finally:
            counter.commit_seconds += time.perf_counter() - t

    for i, uid in enumerate(users):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = uid
            sess["_fresh"] = True
        url = f"/proposals/new?need_id={needs[i % len(needs)]}"
        counter.reset()
        db.session.commit = timed_commit  # the scoped session's proxy, for this request only
        measured = i >= args.warmup
        if measured and profiler:
            profiler.enable()
        t0, c0 = time.perf_counter(), time.thread_time()
        if args.form_page:
            resp = client.get(url)
        else:
            resp = client.post(url, data=dict(FORM, title=f"計測提案 {tag}-{i} 軽量化部材のご提案"))
        c1, t1 = time.thread_time(), time.perf_counter()
        if measured and profiler:
            profiler.disable()
        del db.session.commit
        ok = resp.status_code == 200 if args.form_page else (
            resp.status_code == 302 and "/proposals/" in resp.headers.get("Location", ""))
        if not ok:
            raise SystemExit(f"request {i} failed: {resp.status_code} {resp.get_data(as_text=True)[:800]}")
        if measured:
            out["wall"].append(t1 - t0)
            out["cpu"].append(c1 - c0)
            out["statements"].append(counter.statements)
            out["flushes"].append(counter.flushes)
            out["commit"].append(counter.commit_seconds)
    out["profiler"] = profiler
    return out


def main() -> None:
    args = _args()
    work = Path(tempfile.mkdtemp(prefix="oims-profile-submit-"))
    copy_url = _environment(args, work / "instance")

    from oims import create_app
    from oims.extensions import db

    app = create_app({"INSTANCE_PATH": str(work / "instance"), "WTF_CSRF_ENABLED": False})
    needs, users, tag = _setup(app, args.n + args.warmup)
    counter = Counter(app)
    got = _measure(app, args, needs, users, tag, counter)

    what = "form pages (GET)" if args.form_page else "submissions"
    print(f"[profile] {args.n} {what} ({'PostgreSQL' if args.database_url else 'SQLite'}, matching "
          f"{'off' if args.no_matching else 'on'}, index worker {'embedded' if args.embedded else 'external'}), "
          f"load average {os.getloadavg()[0]:.1f}")
    print(_line("wall", got["wall"]))
    print(_line("CPU (request thread)", got["cpu"]))
    print(_line("commit", got["commit"]))
    print(f"{'SQL statements':<22} min {min(got['statements'])}  max {max(got['statements'])}   "
          f"flushes min {min(got['flushes'])} max {max(got['flushes'])}")
    if args.statements:
        print("\n".join(f"  {s}" for s in counter.sql))
    if got["profiler"]:
        out = io.StringIO()
        pstats.Stats(got["profiler"], stream=out).sort_stats("cumulative").print_stats(args.cprofile)
        print(out.getvalue())
        if args.cprofile_out:
            got["profiler"].dump_stats(args.cprofile_out)
    shutil.rmtree(work, ignore_errors=True)
    if copy_url:
        with app.app_context():
            db.engine.dispose()
        _pg_drop(copy_url)


def _pg_admin(url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return psycopg.connect(admin, autocommit=True), u


def _pg_copy(url: str) -> str:
    conn, u = _pg_admin(url)
    copy = f"{u.database}_run"
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{u.database}"')
    return u.set(database=copy).render_as_string(hide_password=False)


def _pg_drop(url: str) -> None:
    conn, u = _pg_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
