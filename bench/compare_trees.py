"""Before/after page latency on one big database kept by page_latency.py --keep,
for two source trees (e.g. main and a branch), in alternating phases so that
both see the same machine load (the 2-core test machines are shared):

    .venv/bin/python bench/page_latency.py --db postgres --dbname oims_h3_bench --keep ...
    .venv/bin/python bench/compare_trees.py --before /work/main --after . --dbname oims_h3_bench

Indexes that only the "after" tree's migration creates are dropped for the
"before" phases and re-created for the "after" ones (--after-indexes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests
from load_common import DEFAULT_PG, http_login, percentile

AFTER_INDEXES = {
    "ix_proposal_need_submitted": "proposal (need_id, submitted_at, id)",
    "ix_proposal_stage_submitted": "proposal (stage, submitted_at, id)",
    "ix_proposal_stage_need": "proposal (stage, need_id, id)",
    "ix_need_bureau_id": "need (bureau, id)",
}


def gunicorn(tree: str, port: int, env: dict) -> subprocess.Popen:
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
           "--chdir", tree, "--log-level", "warning", "wsgi:app"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn for {tree} did not come up")


def set_indexes(url: str, present: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name, definition in AFTER_INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}" if present
                         else f"DROP INDEX IF EXISTS {name}")
        conn.execute("VACUUM ANALYZE proposal")
        conn.execute("VACUUM ANALYZE need")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--dbname", default="oims_bench_pages")
    ap.add_argument("--port", type=int, default=5133)
    ap.add_argument("--phases", type=int, default=2, help="before/after pairs")
    ap.add_argument("--samples", type=int, default=15)
    ap.add_argument("--redis", default="", help="OIMS_REDIS_URL for the trees that use it")
    args = ap.parse_args()
    url = f"{DEFAULT_PG}/{args.dbname}"
    env = dict(os.environ, OIMS_DATABASE_URL=url, OIMS_SECRET_KEY="bench", OIMS_RATELIMIT_ENABLED="0",
               OIMS_MATCHING_ENABLED="0", OIMS_ARGON2_TIME_COST="1", OIMS_ARGON2_MEMORY_KIB="1024",
               OIMS_REDIS_URL=args.redis)
    with psycopg.connect(url) as conn:
        coord = conn.execute("SELECT email FROM \"user\" WHERE role='coordinator' ORDER BY id LIMIT 1").fetchone()[0]
        proposer = conn.execute("SELECT email FROM \"user\" WHERE role='proposer' ORDER BY id LIMIT 1").fetchone()[0]
        heavy = conn.execute("SELECT need_id FROM proposal GROUP BY need_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    cases = [("coordinator dashboard", "coord", "/dashboard"),
             ("ranked candidates, need with 500 proposals", "coord", f"/brokerage/need/{heavy}"),
             ("needs search 「軽量化」 (proposer)", "proposer", "/needs/?q=軽量化"),
             ("needs search, rare term (proposer)", "proposer", "/needs/?q=超臨界流体発泡"),
             ("needs browse (proposer)", "proposer", "/needs/"),
             ("needs search 「射出成形」 (coordinator)", "coord", "/needs/?q=射出成形")]
    results: dict = {}
    for phase in range(args.phases):
        for label, tree in (("before", args.before), ("after", args.after)):
            set_indexes(url, present=label == "after")
            proc = gunicorn(os.path.abspath(tree), args.port, env)
            try:
                base = f"http://127.0.0.1:{args.port}"
                sessions = {"coord": requests.Session(), "proposer": requests.Session()}
                http_login(sessions["coord"], base, coord)
                http_login(sessions["proposer"], base, proposer)
                for name, who, path in cases:
                    s = sessions[who]
                    s.get(base + path, timeout=120)
                    for _ in range(args.samples):
                        t0 = time.perf_counter()
                        r = s.get(base + path, timeout=120)
                        results.setdefault((name, label), []).append(time.perf_counter() - t0)
                        assert r.status_code == 200, (path, r.status_code)
            finally:
                os.killpg(proc.pid, 15)
                proc.wait()
            load = os.getloadavg()[0]
            print(f"[compare] phase {phase + 1} {label} done (load average {load:.1f})", flush=True)
    set_indexes(url, present=True)
    print(f"[compare] {'page':46s} {'before p50/p95':>18s} {'after p50/p95':>18s}")
    for name, _who, _path in cases:
        b, a = results[(name, "before")], results[(name, "after")]
        print(f"[compare] {name:46s} {percentile(b, 50) * 1000:7.0f}/{percentile(b, 95) * 1000:5.0f} ms "
              f"{percentile(a, 50) * 1000:7.0f}/{percentile(a, 95) * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
