"""The index as a cache of the database, measured across hosts (issue 12 / 10 figures).

    .venv/bin/python bench/index_hosts.py                      # every part, PostgreSQL
    .venv/bin/python bench/index_hosts.py --part startup       # one part: startup|post|converge|demo|scale
    .venv/bin/python bench/index_hosts.py --short              # small sizes (a few minutes)

Parts:
- startup: a second host builds its index from stored vectors (100k profiles
  by default): seconds and memory, nothing encoded. Vectors are synthesised
  from real encoder output (mixtures of pairs of real vectors plus noise, as
  bench/matcher_index.py does) and their lexical analysis is computed from
  real-looking profile texts, so only the encoding is skipped.
- post: submission POST time, one client, sequential, matching on (embedded
  worker thread, as `make run`; and external worker).
- converge: a proposal submitted through host A is ranked by host B (2 hosts,
  own instance folders, one `flask oims worker`): seconds until B ranks it.
- demo: the coordinator's need page over the demo data, matcher on (p50/p95).
- scale: the same page for a need with 500 proposals and 10k profiles indexed.
The load part (50 proposers / 1,000 proposals on 2 hosts x 2 workers) is
bench/load_proposals.py --db postgres --hosts 2 --workers 2 --external-worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import requests
from load_common import (
    PASSWORD,
    BenchEnv,
    Server,
    Worker,
    http_login,
    make_schema,
    seed_needs_and_proposers,
    submit_proposal,
    summary_ms,
    timing_summary,
)

CACHE = Path(os.environ.get("OIMS_BENCH_CACHE", Path.home() / ".cache" / "oims-bench"))
RANKED_RE = re.compile(r'data-proposal-id="(\d+)">\s*<td>.*?</td>\s*<td>(\d+|—)</td>', re.DOTALL)


# --- synthetic stored vectors -----------------------------------------------------------

def demo_texts(limit: int = 256) -> list[str]:
    from oims.demo import data as demo_data

    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            if len(x) >= 30:
                out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk([demo_data.ORGANISATIONS, demo_data.NEEDS, demo_data.PROPOSALS])
    return sorted(set(out))[:limit]


def seed_vectors(encoder_name: str) -> tuple[np.ndarray, str, int]:
    """Real vectors of demo texts (encoded once, cached): the seeds of the synthesis."""
    from matching import get_encoder

    enc = get_encoder(encoder_name)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"h2_seeds_{re.sub(r'[^A-Za-z0-9_.-]', '_', enc.name)}.npy"
    if not path.exists():
        np.save(path, enc.encode_documents(demo_texts()))
    return np.load(path), enc.name, enc.dim


class Synth:
    def __init__(self, seeds: np.ndarray, seed: int = 0) -> None:
        self.seeds = seeds.astype(np.float32)
        self.rng = np.random.default_rng(seed)

    def vectors(self, n: int) -> np.ndarray:
        i, j = self.rng.integers(0, len(self.seeds), (2, n))
        a = self.rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        v = a * self.seeds[i] + (1 - a) * self.seeds[j]
        v += 0.01 * self.rng.normal(size=v.shape).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def store_synthetic(app, seeds: np.ndarray, encoder: str, dim: int, *, chunk: int = 2000) -> dict:
    """A MatchItem for every need, proposal and organisation in the database, with the
    texts, meta and hashes the worker would write (so its repair finds nothing to
    do) but synthesised vectors. Returns counts and seconds."""
    from sqlalchemy import func, insert, select

    from matching import Matcher
    from oims.extensions import db
    from oims.matcher import service as ms
    from oims.models import MatchChange, MatchCursor, MatchItem
    from oims.models.base import utcnow

    synth = Synth(seeds)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    analysed: dict[str, dict] = {}  # texts repeat in synthetic data: analyse each once
    with app.app_context():
        for source, model in ms.MODEL_OF_KIND.items():
            q = select(model).order_by(model.id).execution_options(yield_per=chunk)
            rows = []
            for obj in db.session.scalars(q):
                for kind in ms.DERIVED_KINDS[source]:
                    doc = ms.DOCUMENT_OF_KIND[kind](obj)
                    if doc is None:
                        continue
                    texts, meta = doc
                    if kind in ms.QUERY_KINDS:
                        analysis, analyser = b"[]", ""
                    else:
                        analysis = []
                        for t in texts:
                            if t not in analysed:
                                analysed[t] = Matcher.analyse([t])[0]
                            analysis.append(analysed[t])
                        analysis, analyser = orjson.dumps(analysis), Matcher.analyser_version
                    rows.append({"kind": kind, "item_id": obj.id, "texts": texts, "meta": meta,
                                 "text_hash": ms.text_hash(texts), "encoder": encoder, "dim": dim,
                                 "vectors": synth.vectors(len(texts)).tobytes(), "analyser": analyser,
                                 "analysis": analysis, "updated_at": utcnow()})
                    counts[kind] = counts.get(kind, 0) + 1
                if len(rows) >= chunk:
                    db.session.execute(insert(MatchItem), rows)
                    rows = []
            if rows:
                db.session.execute(insert(MatchItem), rows)
            db.session.commit()
        top = db.session.scalar(select(func.max(MatchChange.id))) or 0
        db.session.merge(MatchCursor(name="worker", position=top, owner="", encoder=encoder, dim=dim))
        db.session.commit()
    return {"counts": counts, "seconds": round(time.perf_counter() - t0, 1)}


def bulk_profiles(app, n: int, seed: int = 3) -> None:
    """n SME capability profiles (bulk insert, no encoding)."""
    from sqlalchemy import insert

    from oims.core.reference import BUREAU_OF_PREFECTURE
    from oims.extensions import db
    from oims.models import Organisation

    texts = demo_texts()
    rng = random.Random(seed)
    prefs = sorted(BUREAU_OF_PREFECTURE)
    with app.app_context():
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                pref = rng.choice(prefs)
                rows.append({"name": f"プロファイル企業{i}", "kind": "sme", "prefecture": pref,
                             "bureau": BUREAU_OF_PREFECTURE[pref], "industry": "E", "employee_band": "21-50",
                             "profile": rng.choice(texts), "technologies": [rng.choice(texts)[:40]]})
            db.session.execute(insert(Organisation), rows)
        db.session.commit()


# --- parts ----------------------------------------------------------------------------------

def part_startup(args, seeds, encoder, dim) -> None:
    env = BenchEnv(db=args.db, name="oims_bench_h2_startup", encoder=args.encoder)
    env.fresh_database()
    app = env.app()
    make_schema(app)
    try:
        t0 = time.perf_counter()
        bulk_profiles(app, args.profiles)
        print(f"[startup] {args.profiles} profiles inserted in {time.perf_counter() - t0:.1f} s")
        stored = store_synthetic(app, seeds, encoder, dim)
        print(f"[startup] stored items {stored['counts']} written in {stored['seconds']} s "
              "(synthetic vectors; analysis computed)")
        out = subprocess.run([sys.executable, __file__, "--_load"], env={**env.environ(), **os.environ,
                             "OIMS_DATABASE_URL": env.url}, capture_output=True, text=True, timeout=1800,
                             check=False)
        res = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
        if res is None:
            print(out.stderr[-3000:])
            raise SystemExit(1)
        print(f"[startup] second host: index of {res['orgs']} profiles built from stored vectors in "
              f"{res['seconds']:.1f} s wall, {res['cpu_seconds']:.1f} s CPU (target <= 60 s), nothing encoded; RSS {res['rss_mb']:.0f} MB "
              f"(process before loading: {res['rss_before_mb']:.0f} MB); first search {res['search_ms']:.0f} ms")
    finally:
        if not args.keep:
            env.drop()


def _load_child() -> None:
    """In a fresh process (a new host): build the index from the database."""
    from sqlalchemy.orm import Session

    from oims import create_app
    from oims.extensions import db
    from oims.matcher.mirror import IndexMirror

    def rss() -> float:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    app = create_app({"INSTANCE_PATH": os.environ["OIMS_BENCH_INSTANCE"]})
    with app.app_context():
        import matching  # noqa: F401 - imports are not part of the build time

        before = rss()
        mirror = IndexMirror()
        t0, cpu0 = time.perf_counter(), time.process_time()
        with Session(db.engine) as session:
            assert mirror.load(session)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        m = mirror.matchers["orgs"]
        qvec = m.export_item(m.ids()[0])[2][0]
        t1 = time.perf_counter()
        m.search_vector("精密加工と表面処理の技術", qvec, k=20)
        search_ms = (time.perf_counter() - t1) * 1000
    print(json.dumps({"orgs": len(m), "seconds": seconds, "rss_mb": rss(), "rss_before_mb": before,
                      "search_ms": search_ms, "cpu_seconds": cpu}), flush=True)
    # The search graph is still being built on a daemon thread (FAISS): leave without
    # unwinding it (a normal exit would abort inside FAISS).
    os._exit(0)


def part_post(args) -> None:
    for mode in ("embedded", "external"):
        env = BenchEnv(db=args.db, name="oims_bench_h2_post", encoder=args.encoder)
        env.fresh_database()
        app = env.app()
        make_schema(app)
        seeded = seed_needs_and_proposers(app, needs=args.samples + 5, proposers=1)
        server = Server(env, workers=2, extra_env={"OIMS_INDEX_WORKER": mode})
        worker = Worker(env) if mode == "external" else None
        try:
            if worker:
                worker.start()
            server.start()
            s = requests.Session()
            http_login(s, server.base, seeded["proposer_emails"][0])
            times, timings = [], {}
            for i, nid in enumerate(seeded["need_ids"][: args.samples]):
                pid, took, status = submit_proposal(s, server.base, nid, f"提案{i}", timings=timings)
                if pid is None:
                    raise RuntimeError(f"submission failed: HTTP {status}")
                times.append(took)
                time.sleep(0.2)  # let the worker encode in between, as under real traffic
            print(f"[post] submission POST, matching on, {mode} worker, one client: {summary_ms(times)} "
                  "(target <= 25 ms server time)")
            print(f"[post] {mode} worker, {timing_summary(timings.get('post', []))}")
        finally:
            server.stop()
            if worker:
                worker.stop()
            if not args.keep:
                env.drop()


def _ranked(session, base: str, need_id: int) -> set[int]:
    html = session.get(f"{base}/brokerage/need/{need_id}", timeout=60).text
    return {int(p) for p, r in RANKED_RE.findall(html) if r != "—"}


def part_converge(args) -> None:
    env = BenchEnv(db="postgres", name="oims_bench_h2_converge", encoder=args.encoder)
    env.fresh_database()
    app = env.app()
    make_schema(app)
    seeded = seed_needs_and_proposers(app, needs=args.samples, proposers=1)
    extra = {"OIMS_INDEX_WORKER": "external"}
    a, b = Server(env, workers=2, host=1, extra_env=extra), Server(env, workers=2, host=2, extra_env=extra)
    worker = Worker(env)
    try:
        worker.start()
        a.start()
        b.start()
        prop, coord = requests.Session(), requests.Session()
        http_login(prop, a.base, seeded["proposer_emails"][0])
        http_login(coord, b.base, seeded["coord"])
        deadline = time.monotonic() + 120
        while 'data-matching="catching-up"' in coord.get(f"{b.base}/brokerage/need/{seeded['need_ids'][0]}").text:
            if time.monotonic() > deadline:
                raise RuntimeError("host B never caught up")
            time.sleep(0.5)
        times = []
        for i, nid in enumerate(seeded["need_ids"][: args.samples]):
            pid, _took, _status = submit_proposal(prop, a.base, nid, f"収束{i}")
            t0 = time.perf_counter()
            while pid not in _ranked(coord, b.base, nid):
                if time.perf_counter() - t0 > 30:
                    break
                time.sleep(0.05)
            times.append(time.perf_counter() - t0)
        print(f"[converge] submitted through host A, ranked by host B: {summary_ms(times)} (target <= 5 s)")
    finally:
        a.stop()
        b.stop()
        worker.stop()
        if not args.keep:
            env.drop()


def _workers_cpu(server) -> float:
    """CPU seconds used so far by the server's gunicorn workers (children of its master),
    background threads included: beside wall times, what the views cost on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.proc.pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def _cpu_note(cpu_seconds: float, views: int) -> str:
    return f"gunicorn workers' CPU {cpu_seconds / max(views, 1) * 1000:.0f} ms per view"


def _page_times(session, url: str, samples: int) -> list[float]:
    session.get(url, timeout=120)
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        r = session.get(url, timeout=120)
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.status_code
    return out


def part_demo(args) -> None:
    env = BenchEnv(db=args.db, name="oims_bench_h2_demo", encoder=args.encoder)
    env.fresh_database()
    app = env.app()
    make_schema(app)
    from oims.demo.loader import load_demo

    with app.app_context():
        t0 = time.perf_counter()
        summary = load_demo(password=PASSWORD)
        print(f"[demo] demo data loaded and encoded in {time.perf_counter() - t0:.0f} s")
        from sqlalchemy import select

        from oims.extensions import db
        from oims.models import Need

        need_ids = list(db.session.scalars(select(Need.id).where(Need.status == "published")))
    server = Server(env, workers=2)
    try:
        server.start()
        coord = requests.Session()
        http_login(coord, server.base, summary["logins"]["coordinator"])
        # Steady state: every worker has loaded its index and seen each page once (a
        # worker's first view of a need computes its ranked lists; Redis would share them).
        for nid in need_ids:
            for _ in range(4):
                coord.get(f"{server.base}/brokerage/need/{nid}", timeout=120)
        times = []
        cpu0 = _workers_cpu(server)
        for nid in need_ids:
            times += _page_times(coord, f"{server.base}/brokerage/need/{nid}", max(3, args.samples // 4))
        cpu = _workers_cpu(server) - cpu0
        print(f"[demo] coordinator need page, {len(need_ids)} published demo needs, matcher on: "
              f"{summary_ms(times)} (target p95 <= 150 ms); {_cpu_note(cpu, len(times) + len(need_ids))}; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()
        if not args.keep:
            env.drop()


def part_scale(args, seeds, encoder, dim) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from page_latency import seed as seed_pages

    env = BenchEnv(db=args.db, name="oims_bench_h2_scale", encoder=args.encoder)
    env.fresh_database()
    app = env.app()
    make_schema(app)
    try:
        info = seed_pages(app, needs=200, proposals_per_need=5, heavy=500)
        bulk_profiles(app, max(0, args.scale_profiles - 500))
        stored = store_synthetic(app, seeds, encoder, dim)
        print(f"[scale] {info['proposals']} proposals, stored items {stored['counts']} "
              f"(synthetic vectors) in {stored['seconds']} s")
        server = Server(env, workers=2, extra_env={"OIMS_INDEX_WORKER": "external"})
        server.start()
        try:
            coord = requests.Session()
            http_login(coord, server.base, info["coord"])
            url = f"{server.base}/brokerage/need/{info['heavy_need']}"
            deadline = time.monotonic() + 300
            while 'data-matching="catching-up"' in coord.get(url).text:
                if time.monotonic() > deadline:
                    raise RuntimeError("never caught up")
                time.sleep(1)
            for _ in range(4):  # every worker has seen the page once
                coord.get(url, timeout=120)
            cpu0 = _workers_cpu(server)
            times = _page_times(coord, url, args.samples)
            cpu = _workers_cpu(server) - cpu0
            print(f"[scale] coordinator need page, 500 proposals, {stored['counts'].get('orgs', 0)} profiles "
                  f"indexed: {summary_ms(times)} (target p95 <= 300 ms); {_cpu_note(cpu, len(times) + 1)}; "
                  f"load average {os.getloadavg()[0]:.1f}")
            cpu0 = _workers_cpu(server)
            later = _page_times(coord, url + "?page=2&rec_page=2", args.samples)
            cpu = _workers_cpu(server) - cpu0
            print(f"[scale] its second pages (proposals 51-100, organisations 21-40): {summary_ms(later)}; "
                  f"{_cpu_note(cpu, len(later) + 1)}")
            filt = _page_times(coord, url + "?bureau=&prefecture=23", args.samples)
            print(f"[scale] same page, recommendations filtered by prefecture (new filter each host: "
                  f"first view computes): {summary_ms(filt)}")
        finally:
            server.stop()
    finally:
        if not args.keep:
            env.drop()


def main() -> None:
    if "--_load" in sys.argv:
        _load_child()
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    ap.add_argument("--part", choices=("all", "startup", "post", "converge", "demo", "scale"), default="all")
    ap.add_argument("--encoder", default="use", help="encoder of the hosts and workers (post, converge, demo)")
    ap.add_argument("--seed-encoder", default="e5-small",
                    help="encoder of the real vectors the synthetic ones are grown from (startup, scale)")
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--scale-profiles", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--short", action="store_true", help="5k profiles, 2k at scale, 8 samples")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.short:
        args.profiles, args.scale_profiles, args.samples = 5000, 2000, 8
    print(f"[h2] db={args.db} encoder={args.encoder}, seed vectors {args.seed_encoder} (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores)")
    need_seeds = args.part in ("all", "startup", "scale")
    seeds, encoder, dim = seed_vectors(args.seed_encoder) if need_seeds else (None, "", 0)
    if args.part in ("all", "startup"):
        part_startup(args, seeds, encoder, dim)
    if args.part in ("all", "post"):
        part_post(args)
    if args.part in ("all", "converge"):
        part_converge(args)
    if args.part in ("all", "demo"):
        part_demo(args)
    if args.part in ("all", "scale"):
        part_scale(args, seeds, encoder, dim)


if __name__ == "__main__":
    main()
