"""Page latency with a big database: 10k needs, 100k proposals, 100k profiles.

    .venv/bin/python bench/page_latency.py --db sqlite
    .venv/bin/python bench/page_latency.py --db postgres
    .venv/bin/python bench/page_latency.py --db postgres --redis redis://127.0.0.1:6379/3
    .venv/bin/python bench/page_latency.py --db sqlite --short    # 1k needs, 10k proposals, 10k profiles

Besides the pages it measures the bulk import of organisations (dry run,
import, re-import of the same list) in this process against the big
database, and prints each page's p95 against the target of issue 12.

Rows are bulk-inserted directly (no encoding: the matcher is switched off,
OIMS_MATCHING_ENABLED=0, because encoding 100k texts on 2 cores takes far
longer than the benchmark; the ranking pages then show the database order
and say that matching is unavailable — the cost of ranking itself is in
bench/matcher_index.py). Measured over HTTP against gunicorn, one client,
sequential requests: the coordinator's ranked-candidates page (a need with
500 proposals and a typical one with 10), the proposals list of a need, and
the needs search (a common Japanese term, a rare one, no query) as a proposer.

The machine these run on is shared, so wall times alone mislead: beside each
page's wall times the bench prints the server's CPU time per request (the
gunicorn processes and, on PostgreSQL, the database backends serving them, read
from /proc). `--explain` then renders each page once in this process, times
every SQL statement and prints EXPLAIN ANALYZE (execution time, top of the plan)
for the slowest ones. `--reuse` keeps a database loaded by an earlier `--keep`
run (no seeding, no import), to measure a change quickly.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta

import requests
from load_common import (
    PASSWORD,
    BenchEnv,
    Server,
    http_login,
    make_schema,
    percentile,
    summary_ms,
)

WORDS = ["軽量化", "CFRP", "射出成形", "異材接合", "電動化", "半導体", "センサー", "画像認識", "AI", "IoT",
         "水素", "蓄電池", "リサイクル", "脱炭素", "医療機器", "食品加工", "物流", "ロボット", "耐熱", "防錆",
         "表面処理", "精密加工", "3Dプリンタ", "省エネ", "熱マネジメント", "振動解析", "バイオ素材", "塗装"]
RARE = "超臨界流体発泡"


def _sentence(rng: random.Random, n: int = 4) -> str:
    return "、".join(rng.sample(WORDS, n)) + "に関する技術を持つパートナーを探しています。"


def seed(app, needs: int, proposals_per_need: int, heavy: int, seed_: int = 7) -> dict:
    from sqlalchemy import insert, select

    from oims.auth.passwords import hash_password
    from oims.core.reference import BUREAU_OF_PREFECTURE
    from oims.extensions import db
    from oims.models import Need, Organisation, Proposal, User
    from oims.models.base import utcnow

    rng = random.Random(seed_)
    prefs = sorted(BUREAU_OF_PREFECTURE)
    n_large, n_prop = max(needs // 10, 10), max(proposals_per_need * 50, 500)
    now = utcnow()
    pw = hash_password(PASSWORD)
    t0 = time.perf_counter()
    with app.app_context():
        def orgs(kind, count, start):
            rows = []
            for i in range(count):
                pref = "13" if i == 0 else rng.choice(prefs)
                rows.append({"name": f"{'大手' if kind == 'large' else '中小'}企業{start + i}", "kind": kind,
                             "prefecture": pref, "bureau": BUREAU_OF_PREFECTURE[pref], "industry": "E",
                             "employee_band": "1001+" if kind == "large" else "21-50",
                             "profile": _sentence(rng), "technologies": rng.sample(WORDS, 3)})
            db.session.execute(insert(Organisation), rows)

        orgs("large", n_large, 0)
        orgs("sme", n_prop, n_large)
        support = Organisation(name="関東経済産業局", kind="support", industry="S", employee_band="1001+")
        support.set_prefecture("13")
        db.session.add(support)
        db.session.flush()
        org_ids = db.session.execute(select(Organisation.id, Organisation.kind, Organisation.bureau)
                                     .order_by(Organisation.id)).all()
        large = [(i, b) for i, k, b in org_ids if k == "large"]
        smes = [i for i, k, _b in org_ids if k == "sme"]
        db.session.execute(insert(User), [
            {"email": f"u{oid}@bench.example.jp", "name": f"利用者{oid}", "password_hash": pw,
             "role": "need_owner" if kind == "large" else ("coordinator" if kind == "support" else "proposer"),
             "organisation_id": oid, "is_org_admin": True} for oid, kind, _b in org_ids])
        user_of = dict(db.session.execute(select(User.organisation_id, User.id)).all())
        need_rows = []
        for j in range(needs):
            oid, bureau = large[0] if j == 0 else rng.choice(large)
            title = ("電動車向け軽量化部材の共同開発" if j == 0 else
                     f"{rng.choice(WORDS)}と{rng.choice(WORDS)}の共同開発{j}")
            summary = _sentence(rng) + (RARE if j % 997 == 5 else "")
            status = "published" if j < 10 or rng.random() < 0.8 else rng.choice(["review", "closed", "draft"])
            kw = rng.sample(WORDS, 3)
            need_rows.append({"owner_org_id": oid, "created_by_id": user_of[oid], "title": title, "summary": summary,
                              "background": _sentence(rng), "sought": _sentence(rng), "partnership_types": ["joint_rnd"],
                              "keywords": kw, "regions": [], "deadline": date.today() + timedelta(days=rng.randint(5, 90)),
                              "status": status, "bureau": bureau,
                              "search_text": "\n".join([title, summary, " ".join(kw)]).lower(),
                              "published_at": now if status in ("published", "closed") else None})
        for chunk in range(0, len(need_rows), 2000):
            db.session.execute(insert(Need), need_rows[chunk:chunk + 2000])
        need_ids = list(db.session.scalars(select(Need.id).order_by(Need.id)))
        total = 0
        batch = []
        for pos, nid in enumerate(need_ids):
            count = heavy if pos == 0 else proposals_per_need
            start = rng.randrange(len(smes))
            for r in range(count):
                oid = smes[(start + r * 7) % len(smes)]
                stage = rng.choice(["submitted", "submitted", "screening", "shortlisted"])
                batch.append({"need_id": nid, "org_id": oid, "created_by_id": user_of[oid],
                              "title": f"{rng.choice(WORDS)}による提案{total}", "summary": _sentence(rng),
                              "solution": _sentence(rng), "track_record": "量産実績あり", "stage": stage,
                              "submitted_at": now, "forwarded_at": now if stage == "shortlisted" else None,
                              "answers": [], "receipt_hash": "x" * 64,
                              # a tenth of the shortlisted cases stalled (the coordinator's dashboard lists them)
                              "last_activity_at": now - timedelta(days=45) if stage == "shortlisted" and total % 10 == 0
                              else now})
                total += 1
            if len(batch) >= 5000:
                db.session.execute(insert(Proposal), batch)
                batch = []
        if batch:
            db.session.execute(insert(Proposal), batch)
        db.session.commit()
        # A database that grew by normal use has planner statistics (autovacuum
        # analyses it); a bulk load does not until ANALYZE. Without it PostgreSQL
        # picks nested loops and the coordinator dashboard took ~18 s here.
        from sqlalchemy import text

        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        typical = need_ids[1]
        return {"heavy_need": need_ids[0], "typical_need": typical, "needs": len(need_ids), "proposals": total,
                "coord": f"u{support.id}@bench.example.jp", "proposer": f"u{smes[0]}@bench.example.jp",
                "seconds": time.perf_counter() - t0}


def loaded(app) -> dict:
    """The ids and logins `seed` returned, read back from a database it loaded."""
    from sqlalchemy import func, select

    from oims.extensions import db
    from oims.models import Need, Organisation, Proposal

    with app.app_context():
        need_ids = list(db.session.scalars(select(Need.id).order_by(Need.id).limit(2)))
        support = db.session.scalar(select(func.min(Organisation.id)).where(Organisation.kind == "support"))
        sme = db.session.scalar(select(func.min(Organisation.id)).where(Organisation.kind == "sme"))
        return {"heavy_need": need_ids[0], "typical_need": need_ids[1],
                "needs": db.session.scalar(select(func.count(Need.id))),
                "proposals": db.session.scalar(select(func.count(Proposal.id))),
                "coord": f"u{support}@bench.example.jp", "proposer": f"u{sme}@bench.example.jp"}


def seed_profiles(app, count: int, seed_: int = 11) -> float:
    """`count` SME capability profiles with corporate numbers, as a bureau's firm list loads them."""
    from sqlalchemy import insert

    from oims.core.reference import BUREAU_OF_PREFECTURE
    from oims.extensions import db
    from oims.imports.corporate_number import with_check_digit
    from oims.models import Organisation

    rng = random.Random(seed_)
    prefs = sorted(BUREAU_OF_PREFECTURE)
    t0 = time.perf_counter()
    with app.app_context():
        for start in range(0, count, 5000):
            rows = []
            for i in range(start, min(start + 5000, count)):
                pref = rng.choice(prefs)
                rows.append({"name": f"登録企業{i}", "corporate_number": with_check_digit(f"{i + 1:012d}"),
                             "kind": "sme", "prefecture": pref, "bureau": BUREAU_OF_PREFECTURE[pref],
                             "industry": "E", "employee_band": "21-50", "profile": _sentence(rng),
                             "technologies": rng.sample(WORDS, 3), "certifications": ["ISO 9001"]})
            db.session.execute(insert(Organisation), rows)
        db.session.commit()
    return time.perf_counter() - t0


def import_throughput(app, rows: int, existing: int) -> list[str]:
    """Dry run, import and re-import of a CSV of `rows` firms: half already
    registered (a fifth of those with a changed profile), half new."""
    import csv
    import io

    from oims.extensions import db
    from oims.imports.columns import COLUMNS
    from oims.imports.corporate_number import with_check_digit
    from oims.imports.services import create_job, run_job

    rng = random.Random(3)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    half = min(rows // 2, existing)
    for i in range(rows):
        number = i + 1 if i < half else existing + 1 + i
        profile = _sentence(rng) if (i >= half or i % 5 == 0) else None
        cells = {"corporate_number": with_check_digit(f"{number:012d}"), "name": f"登録企業{number - 1}",
                 "kind": "中小企業", "prefecture": "東京都", "industry": "製造業", "employee_band": "21〜50名",
                 "profile": profile or "", "technologies": "精密加工;表面処理"}
        writer.writerow([cells.get(c.key, "") for c in COLUMNS])
    data = out.getvalue().encode("utf-8")
    lines = []
    with app.app_context():
        for label in ("first import", "re-import (same list)"):
            t0 = time.perf_counter()
            job = create_job(data, "bench.csv")
            db.session.commit()
            t1 = time.perf_counter()
            run_job(job)
            t2 = time.perf_counter()
            lines.append(f"{label}: {rows} rows; dry run {rows / (t1 - t0):,.0f} rows/s, import "
                         f"{rows / (t2 - t1):,.0f} rows/s ({job.created_count} created, {job.updated_count} updated, "
                         f"{job.unchanged_count} unchanged, {job.skipped_count} skipped)")
    return lines


def bump_kpi_generation() -> None:
    """What a commit does: mark every KPI panel out of date (shared through Redis)."""
    import redis

    client = redis.Redis.from_url(os.environ["OIMS_REDIS_URL"])
    for key in client.scan_iter("oims:kpi:gen:*"):
        client.incr(key)
    client.incr("oims:kpi:gen:*")


def _cpu_seconds(pids) -> dict[int, float]:
    """utime + stime of each process still alive (from /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


class ServerCpu:
    """CPU time spent by the gunicorn process group and by the PostgreSQL
    backends connected to the benchmark's database, between two snapshots."""

    def __init__(self, server, env) -> None:
        self.pgid = server.proc.pid
        self.env = env

    def _app_pids(self) -> list[int]:
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.getpgid(int(name)) == self.pgid:
                        pids.append(int(name))
                except OSError:
                    pass
        return pids

    def _db_pids(self) -> list[int]:
        if self.env.db != "postgres":
            return []
        import psycopg

        with psycopg.connect(f"{self.env.pg_base}/postgres", autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                               (self.env.name,))]

    def snapshot(self) -> tuple[dict, dict]:
        return _cpu_seconds(self._app_pids()), _cpu_seconds(self._db_pids())

    @staticmethod
    def spent(before: tuple[dict, dict], after: tuple[dict, dict]) -> tuple[float, float]:
        return tuple(sum(v - b.get(pid, 0.0) for pid, v in a.items()) for b, a in zip(before, after, strict=True))


def measure(session, url: str, samples: int, before=None, cpu: ServerCpu | None = None,
            warm_up: int = 3) -> tuple[list[float], str]:
    # Warm-up (template compilation, caches) of every worker: sequential requests
    # go to whichever worker wakes first, so a few per worker.
    for _ in range(warm_up):
        session.get(url, timeout=120)
    out = []
    start = cpu.snapshot() if cpu else None
    for _ in range(samples):
        if before is not None:
            before()
        t0 = time.perf_counter()
        resp = session.get(url, timeout=120)
        out.append(time.perf_counter() - t0)
        if resp.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status_code}")
    note = ""
    if cpu:
        app_s, db_s = ServerCpu.spent(start, cpu.snapshot())
        note = f"  server CPU/req: app {app_s / samples * 1000:.0f} ms, db {db_s / samples * 1000:.0f} ms"
    return out, note


def explain_pages(app, env, cases, users: dict, top: int = 3) -> None:
    """Render each page once in this process, time its SQL, and EXPLAIN ANALYZE
    the `top` slowest statements (PostgreSQL; on SQLite only the timings)."""
    from sqlalchemy import event, text

    from oims.extensions import db
    from oims.models import User

    with app.app_context():
        engine = db.engine
        ids = {email: db.session.scalar(text("SELECT id FROM \"user\" WHERE email = :e"), {"e": email})
               for email in users.values()}
    for label, who, path, _target in cases:
        client = app.test_client()
        with app.app_context():
            user = db.session.get(User, ids[users[who]])
            with client.session_transaction() as sess:
                sess["_user_id"], sess["_fresh"] = user.get_id(), True
        client.get(path)  # warm-up
        seen: list[tuple[float, str, object]] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany, seen=seen):
            seen.append((time.perf_counter() - conn.info.pop("t0"), statement, parameters))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            resp = client.get(path)
            wall, cpu_app = time.perf_counter() - t0, time.process_time() - cpu0
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        sql = sum(d for d, _s, _p in seen)
        print(f"[explain] {label}: HTTP {resp.status_code}, {wall * 1000:.0f} ms wall, {cpu_app * 1000:.0f} ms "
              f"CPU in this process, {len(seen)} queries, {sql * 1000:.0f} ms waiting for SQL")
        for took, statement, params in sorted(seen, key=lambda r: -r[0])[:top]:
            one_line = " ".join(statement.split())
            print(f"[explain]   {took * 1000:6.1f} ms  {one_line[:160]}")
            if env.db != "postgres":
                continue
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                plan = [r[0] for r in cur.fetchall()]
            finally:
                raw.close()
            timing = [ln.strip() for ln in plan if ln.startswith(("Planning Time", "Execution Time"))]
            print(f"[explain]      {'; '.join(timing)}")
            for ln in plan[:8]:
                if not ln.startswith(("Planning", "Execution")):
                    print(f"[explain]      | {ln[:150]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--needs", type=int, default=10_000)
    ap.add_argument("--per-need", type=int, default=10)
    ap.add_argument("--heavy", type=int, default=500, help="proposals to the one big need")
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--profiles", type=int, default=100_000, help="capability profiles (organisations) to load")
    ap.add_argument("--import-rows", type=int, default=10_000, help="rows of the import-throughput CSV")
    ap.add_argument("--port", type=int, default=None, help="gunicorn port (default: any free one)")
    ap.add_argument("--redis", default=os.environ.get("OIMS_REDIS_URL", ""),
                    help="OIMS_REDIS_URL for the KPI cache (also measures the dashboard with the cache cold)")
    ap.add_argument("--short", action="store_true",
                    help="CI size: 1k needs, 10k proposals, 10k profiles, 1k import rows, 5 samples")
    ap.add_argument("--dbname", default="oims_bench_pages", help="PostgreSQL database to (re)create")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the database a `--keep` run left (PostgreSQL; implies --keep)")
    ap.add_argument("--explain", action="store_true", help="after the HTTP runs, EXPLAIN ANALYZE each page's SQL")
    ap.add_argument("--only", default="", help="measure only the pages whose label contains this text")
    args = ap.parse_args()
    if args.short:
        args.needs, args.samples, args.heavy, args.profiles, args.import_rows = 1000, 5, 200, 10_000, 1000
    if args.redis:
        os.environ["OIMS_REDIS_URL"] = args.redis

    env = BenchEnv(db=args.db, name=args.dbname, matching=False)
    if args.reuse:
        if args.db != "postgres":
            ap.error("--reuse needs --db postgres")
        args.keep = True
        app = env.app()
        info = loaded(app)
        print(f"[pages] db={args.db}: reusing {args.dbname}: {info['needs']} needs, {info['proposals']} proposals")
    else:
        env.fresh_database()
        app = env.app()
        make_schema(app)
        info = seed(app, args.needs, args.per_need, args.heavy)
        print(f"[pages] db={args.db}: {info['needs']} needs, {info['proposals']} proposals inserted in "
              f"{info['seconds']:.1f} s; matcher off (ranking cost: bench/matcher_index.py)")
        took = seed_profiles(app, args.profiles)
        print(f"[pages] {args.profiles} capability profiles inserted in {took:.1f} s")
        if args.db == "postgres":
            from sqlalchemy import text

            from oims.extensions import db

            with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        for line in import_throughput(app, args.import_rows, args.profiles):
            print(f"[import] {line}")
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
    server = Server(env, workers=args.workers, port=args.port)
    server.start()
    try:
        coord, proposer = requests.Session(), requests.Session()
        http_login(coord, server.base, info["coord"])
        http_login(proposer, server.base, info["proposer"])
        targets = {"ranked500": 300, "search": 100, "dashboard": 150}
        cases = [
            (f"ranked candidates, need with {args.heavy} proposals", coord, f"/brokerage/need/{info['heavy_need']}",
             "ranked500"),
            (f"ranked candidates, need with {args.per_need} proposals", coord,
             f"/brokerage/need/{info['typical_need']}", None),
            ("proposals list of the big need", coord, f"/proposals/need/{info['heavy_need']}", None),
            ("needs search 「軽量化」 (common)", proposer, "/needs/?q=軽量化", "search"),
            (f"needs search 「{RARE}」 (rare)", proposer, f"/needs/?q={RARE}", "search"),
            ("needs browse, no query", proposer, "/needs/", "search"),
            ("needs search as coordinator 「射出成形」", coord, "/needs/?q=射出成形", "search"),
            ("coordinator dashboard (KPI panel cached)", coord, "/dashboard", "dashboard"),
            ("organisations list (profiles), page 1", coord, "/orgs/", None),
        ]
        cases = [c for c in cases if args.only in c[0]]
        cpu = ServerCpu(server, env)
        print(f"[pages] load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        for label, session, path, target in cases:
            times, note = measure(session, server.base + path, args.samples, cpu=cpu, warm_up=2 * args.workers + 1)
            verdict = ""
            if target:
                p95 = percentile(times, 95) * 1000
                verdict = f"  target p95 ≤ {targets[target]} ms: {'met' if p95 <= targets[target] else 'MISSED'}"
            print(f"[pages] {label:48s} {summary_ms(times)}{verdict}{note}")
        if args.redis and "dashboard" in args.only + "dashboard":
            times, note = measure(coord, server.base + "/dashboard", max(args.samples // 3, 3),
                                  before=bump_kpi_generation, cpu=cpu)
            print(f"[pages] {'coordinator dashboard, KPI cache invalidated':48s} {summary_ms(times)}{note}")
        print(f"[pages] load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        if args.explain:
            sessions = {id(coord): info["coord"], id(proposer): info["proposer"]}
            explain_pages(app, env, [(label, id(s_), path, t) for label, s_, path, t in cases], sessions)
    finally:
        server.stop()
        if not args.keep:
            env.drop()
        elif args.reuse:  # the database stays; this run's instance folder and logs do not
            import shutil

            shutil.rmtree(env.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
