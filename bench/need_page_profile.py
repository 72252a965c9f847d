"""The coordinator's need page (/brokerage/need/<id>) in process: wall and CPU time,
SQL statements per view, and optionally a cProfile of the views.

    .venv/bin/python bench/need_page_profile.py --part demo  [--samples 10] [--profile]
    .venv/bin/python bench/need_page_profile.py --part scale [--reuse] [--profile]
    .venv/bin/python bench/need_page_profile.py --part scale --drop

Same data as bench/index_hosts.py --part demo / --part scale (demo data encoded
with the packaged encoder; or a need with 500 proposals and 10k profiles with
synthetic stored vectors), on PostgreSQL, but the page is requested through
Flask's test client in this process (signed in as the coordinator), so the
time is the app's alone: no HTTP, no gunicorn. CPU time (time.process_time)
is printed beside wall time because the machine is shared: CPU time is what
the view costs, wall time adds whatever the other processes take.
`--reuse` keeps the database (named after OIMS_BENCH_DB_PREFIX, default
oims_pn_) between runs so attempts can be compared on the same data; `--drop`
removes it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_common import PASSWORD, BenchEnv, make_schema, percentile  # noqa: E402

os.environ.setdefault("OIMS_BENCH_DB_PREFIX", "oims_pn_")
STATE = Path(os.environ.get("OIMS_BENCH_STATE", "/tmp")) / "oims_need_page_profile"


def _env(part: str) -> BenchEnv:
    env = BenchEnv(db="postgres", name=f"page_{part}")
    STATE.mkdir(parents=True, exist_ok=True)
    env.workdir = STATE / part
    env.workdir.mkdir(parents=True, exist_ok=True)
    return env


def _db_exists(env: BenchEnv) -> bool:
    import psycopg

    with psycopg.connect(f"{env.pg_base}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (env.name,)).fetchone() is not None


def seed(part: str, env: BenchEnv) -> dict:
    env.fresh_database()
    # The demo is encoded inline while it loads; the scale data gets synthetic stored vectors.
    os.environ["OIMS_INDEX_IN_BACKGROUND"] = "0" if part == "demo" else "1"
    os.environ["OIMS_INDEX_WORKER"] = "embedded" if part == "demo" else "external"
    app = env.app()
    make_schema(app)
    from sqlalchemy import select, text

    from oims.extensions import db
    from oims.models import Need

    if part == "demo":
        from oims.demo.loader import load_demo
        from oims.matcher import service as ms

        with app.app_context():
            summary = load_demo(password=PASSWORD)
            ms.service().wait_idle(600)
            need_ids = list(db.session.scalars(select(Need.id).where(Need.status == "published")
                                               .order_by(Need.id)))
        info = {"coord": summary["logins"]["coordinator"], "urls": [f"/brokerage/need/{n}" for n in need_ids]}
    else:
        import index_hosts as ih
        from page_latency import seed as seed_pages

        seeds, encoder, dim = ih.seed_vectors("e5-small")
        pages = seed_pages(app, needs=200, proposals_per_need=5, heavy=500)
        ih.bulk_profiles(app, 10_000 - 500)
        stored = ih.store_synthetic(app, seeds, encoder, dim)
        print(f"[seed] {pages['proposals']} proposals, stored {stored['counts']} in {stored['seconds']} s")
        heavy = pages["heavy_need"]
        info = {"coord": pages["coord"], "encoder": encoder,
                "urls": [f"/brokerage/need/{heavy}", f"/brokerage/need/{heavy}?page=2"]}
    with app.app_context():
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    (env.workdir / "info.json").write_text(json.dumps(info))
    return info


def _login(client, email: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code


def measure(part: str, env: BenchEnv, info: dict, samples: int, profile: bool, echo: bool,
            callers: list[str], cold: bool = False) -> None:
    os.environ["OIMS_INDEX_IN_BACKGROUND"] = "1"  # as gunicorn: the index follows in a thread
    os.environ["OIMS_INDEX_WORKER"] = "external"
    if info.get("encoder"):
        os.environ["OIMS_ENCODER"] = info["encoder"]
    app = env.app()
    from sqlalchemy import event

    from oims.extensions import db
    from oims.matcher import service as ms

    statements: list[str] = []
    with app.app_context():
        ms.service().start()
        deadline = time.monotonic() + 300
        while not ms.service().mirror.loaded and time.monotonic() < deadline:
            time.sleep(0.2)
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cur, stmt, *a: conn.info.setdefault("t0", []).append(time.perf_counter()))
        event.listen(db.engine, "after_cursor_execute",
                     lambda conn, cur, stmt, *a: statements.append(
                         f"{(time.perf_counter() - conn.info['t0'].pop()) * 1000:6.1f} ms  {stmt}"))
    client = app.test_client()
    _login(client, info["coord"])
    for url in info["urls"]:  # warm: templates compiled, ranked lists cached
        assert client.get(url).status_code == 200
    prof = cProfile.Profile() if profile else None
    load = os.getloadavg()[0]
    for url in info["urls"]:
        walls, cpus, counts = [], [], []
        for _ in range(samples):
            statements.clear()
            if cold:  # every view computes its ranked lists (a worker's first view of the need)
                cache = ms.service(app).cache
                cache.backend = type(cache.backend)()
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            resp = client.get(url)
            if prof:
                prof.disable()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            counts.append(len(statements))
            assert resp.status_code == 200, resp.status_code
        if echo:
            print("\n".join(s.replace("\n", " ")[:200] for s in statements))
        if part == "demo" and url != info["urls"][0]:
            _collect(walls, cpus, counts)
            continue
        if part == "demo":
            _collect(walls, cpus, counts, reset=True)
            continue
        _print(f"[{part}] {url}", walls, cpus, counts, resp)
    if part == "demo":
        w, c, n = _collect([], [], [])
        _print(f"[demo] {len(info['urls'])} published needs", w, c, n, resp)
    print(f"  load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    if prof:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        for name in callers:
            stats.print_callers(name)
        print(out.getvalue())


_ACC: dict[str, list] = {"w": [], "c": [], "n": []}


def _collect(walls, cpus, counts, reset=False):
    if reset:
        _ACC["w"], _ACC["c"], _ACC["n"] = [], [], []
    _ACC["w"] += walls
    _ACC["c"] += cpus
    _ACC["n"] += counts
    return _ACC["w"], _ACC["c"], _ACC["n"]


def _print(label, walls, cpus, counts, resp) -> None:
    def ms(values, p):
        return percentile(values, p) * 1000

    print(f"{label}: wall p50 {ms(walls, 50):.0f} ms, p95 {ms(walls, 95):.0f} ms; "
          f"CPU p50 {ms(cpus, 50):.0f} ms, p95 {ms(cpus, 95):.0f} ms, mean {statistics.fmean(cpus) * 1000:.0f} ms; "
          f"SQL statements {min(counts)}–{max(counts)}; HTML {len(resp.data) // 1024} KiB (n={len(walls)})")


def fit_check(env: BenchEnv, info: dict, samples: int) -> None:
    """The fit check as a proposer calls it (JSON POST /brokerage/fit-check) with a new
    2,000-character draft each time (every sentence encoded), against a published demo need."""
    from fit_check import draft_2000

    os.environ["OIMS_INDEX_IN_BACKGROUND"] = "1"
    os.environ["OIMS_INDEX_WORKER"] = "external"
    app = env.app()
    from oims.matcher import service as ms

    with app.app_context():
        ms.service().start()
        while not ms.service().mirror.loaded:
            time.sleep(0.2)
    client = app.test_client()
    _login(client, "proposer@example.jp")
    need_id = int(info["urls"][0].rsplit("/", 1)[1])
    page = client.get(f"/brokerage/fit-check?need_id={need_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def post(text):
        return client.post("/brokerage/fit-check", json={"need_id": need_id, "text": text},
                           headers={"X-CSRFToken": token, "Accept": "application/json"})

    assert post(draft_2000(1)).status_code == 200  # warm: encoder loaded, need prepared
    walls, cpus = [], []
    for r in range(samples):
        t0, c0 = time.perf_counter(), time.process_time()
        resp = post(draft_2000(1000 + 100 * r))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert resp.status_code == 200, resp.status_code
    _print("[fit check] 2,000-character draft, JSON POST, new draft each time", walls, cpus, [0], resp)
    print(f"  load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("demo", "scale"), required=True)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--profile", action="store_true", help="cProfile the measured views")
    ap.add_argument("--callers", action="append", default=[], help="with --profile: print who calls this function")
    ap.add_argument("--fit", action="store_true", help="demo only: time the fit check instead of the page")
    ap.add_argument("--cold", action="store_true", help="empty the ranked-list cache before each view")
    ap.add_argument("--echo", action="store_true", help="print the SQL of the last view of each URL")
    ap.add_argument("--reuse", action="store_true", help="keep the database for the next run (seed once)")
    ap.add_argument("--drop", action="store_true", help="drop the database and stop")
    args = ap.parse_args()
    env = _env(args.part)
    if args.drop:
        env.drop()
        return
    info_file = env.workdir / "info.json"
    if args.reuse and info_file.exists() and _db_exists(env):
        info = json.loads(info_file.read_text())
    else:
        info = seed(args.part, env)
    try:
        if args.fit:
            fit_check(env, info, args.samples)
            return
        measure(args.part, env, info, args.samples, args.profile, args.echo, args.callers, args.cold)
    finally:
        if not args.reuse:
            env.drop()


if __name__ == "__main__":
    main()
