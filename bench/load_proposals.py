"""Load: concurrent proposers submit proposals over HTTP to the app under gunicorn.

    .venv/bin/python bench/load_proposals.py --db sqlite          # 50 proposers, 1,000 proposals
    .venv/bin/python bench/load_proposals.py --db postgres
    .venv/bin/python bench/load_proposals.py --db sqlite --short  # CI size: 10 proposers, 100 proposals
    .venv/bin/python bench/load_proposals.py --db postgres --hosts 2 --workers 2 --external-worker
        # 2 hosts (own instance folders) x 2 gunicorn workers and one `flask oims worker`

Users and needs are prepared directly in the database; each proposer signs in
over HTTP and submits the real proposal form (CSRF on: the token is read from
the form page). Then every acknowledged proposal (a 302 to its page) must be
stored exactly once and completely, and indexed by the matcher.
Prints throughput and p50/p95 latency of the submitting POST.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import requests
from load_common import (
    BenchEnv,
    CpuMeter,
    Server,
    Worker,
    check_stored,
    cpu_summary,
    http_login,
    index_state,
    make_schema,
    percentile,
    seed_needs_and_proposers,
    submit_proposal,
    summary_ms,
    timing_summary,
)


def run_burst(base: str | list[str], emails: list[str], need_ids: list[int], per_proposer: int, *,
              stop: threading.Event | None = None, tag: str = "load") -> dict:
    """Each proposer (a thread) signs in and submits `per_proposer` proposals to distinct needs.

    Several bases (hosts): proposer j uses host j mod n, as a load balancer with sticky sessions would."""
    bases = [base] if isinstance(base, str) else list(base)
    acked: dict[int, str] = {}
    latencies: list[float] = []
    failures: dict[str, int] = {}
    timings: dict[str, list] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(emails) + 1)

    def proposer(j: int, email: str) -> None:
        base = bases[j % len(bases)]
        s = requests.Session()
        try:
            http_login(s, base, email)
        except Exception as exc:  # noqa: BLE001
            with lock:
                failures[f"login: {type(exc).__name__}"] = failures.get(f"login: {type(exc).__name__}", 0) + 1
            start.wait()
            return
        start.wait()
        my_timings: dict[str, list] = {}
        try:
            _submit_all(j, base, s, my_timings)
        finally:
            with lock:
                for key, values in my_timings.items():
                    timings.setdefault(key, []).extend(values)

    def _submit_all(j: int, base: str, s, my_timings: dict) -> None:
        for k in range(per_proposer):
            if stop is not None and stop.is_set():
                return
            need_id = need_ids[(j + k) % len(need_ids)]
            title = f"{tag}-p{j}-n{need_id}-{k} 軽量化部材のご提案"
            try:
                pid, took, status = submit_proposal(s, base, need_id, title, timings=my_timings)
            except requests.RequestException as exc:
                with lock:
                    key = type(exc).__name__
                    failures[key] = failures.get(key, 0) + 1
                if stop is not None and stop.is_set():
                    return
                continue
            with lock:
                if pid is not None:
                    acked[pid] = title
                    latencies.append(took)
                else:
                    failures[f"HTTP {status}"] = failures.get(f"HTTP {status}", 0) + 1

    threads = [threading.Thread(target=proposer, args=(j, e), daemon=True) for j, e in enumerate(emails)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"acked": acked, "latencies": latencies, "failures": failures, "wall": wall, "timings": timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--proposers", type=int, default=50)
    ap.add_argument("--proposals", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers per host")
    ap.add_argument("--hosts", type=int, default=1, help="gunicorn hosts, each with its own instance folder")
    ap.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (> 1: gthread workers)")
    ap.add_argument("--keep-alive", type=int, default=None,
                    help="gunicorn --keep-alive seconds (gthread; 0: no keep-alive, requests spread over workers)")
    ap.add_argument("--external-worker", action="store_true",
                    help="encode in one `flask oims worker` (OIMS_INDEX_WORKER=external on the hosts)")
    ap.add_argument("--no-matching", action="store_true", help="run with OIMS_MATCHING_ENABLED=0")
    ap.add_argument("--short", action="store_true", help="CI size: 10 proposers, 100 proposals")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory and database")
    args = ap.parse_args()
    if args.short:
        args.proposers, args.proposals = 10, 100
    per = max(1, args.proposals // args.proposers)

    env = BenchEnv(db=args.db, name="oims_bench_load", matching=not args.no_matching)
    env.fresh_database()
    app = env.app()
    make_schema(app)
    seeded = seed_needs_and_proposers(app, needs=max(per * 2, 20), proposers=args.proposers)
    extra = {"OIMS_INDEX_WORKER": "external"} if args.external_worker else {}
    servers = [Server(env, workers=args.workers, host=h + 1 if args.hosts > 1 else 0, extra_env=extra,
                      threads=args.threads, keep_alive=args.keep_alive)
               for h in range(args.hosts)]
    worker = Worker(env) if args.external_worker and env.matching else None
    print(f"[load] db={args.db} hosts={args.hosts} workers/host={args.workers} threads/worker={args.threads} keep-alive={args.keep_alive} proposers={args.proposers} "
          f"proposals={per * args.proposers} matching={'on' if env.matching else 'off'} ({env.encoder}, "
          f"{'external worker' if worker else 'embedded worker threads'})")
    try:
        if worker:
            worker.start()
        for server in servers:
            server.start()
        meter = CpuMeter(env, servers, worker)
        meter.start()  # after sign-in would be fairer; sign-in is cheap here (argon2 at its minimum)
        result = run_burst([s.base for s in servers], seeded["proposer_emails"], seeded["need_ids"], per)
        cpu_used = meter.stop()
        # Encoding runs off the request path (worker thread or process): let it
        # finish while it is still up (anything left stays in the change log
        # for the next start's repair).
        idx = index_state(app)
    finally:
        for server in servers:
            server.stop()
        if worker:
            worker.stop()
    acked, lat = result["acked"], result["latencies"]
    print(f"[load] acknowledged {len(acked)} in {result['wall']:.1f} s -> {len(acked) / result['wall']:.1f} proposals/s")
    print(f"[load] submit POST latency: {summary_ms(lat)}")
    print(f"[load] submit POST, {timing_summary(result['timings'].get('post', []))}")
    print(f"[load] form page GET, {timing_summary(result['timings'].get('form', []))}")
    if acked:
        print(f"[load] {cpu_summary(cpu_used, len(acked), result['wall'])}; load average "
              f"{os.getloadavg()[0]:.1f}")
    if result["failures"]:
        print(f"[load] not acknowledged: {result['failures']}")
    stored = check_stored(app, acked)
    print(f"[load] stored rows {stored['rows']}, acknowledged {stored['acknowledged']}, "
          f"stored without acknowledgement {stored['unacknowledged_but_stored']}, problems {len(stored['problems'])}")
    for p in stored["problems"][:10]:
        print("   ", p)
    print(f"[load] matcher index: {idx}")
    ok = not stored["problems"] and (not idx.get("enabled") or (idx["missing"] == 0 and idx["stray"] == 0
                                                                  and idx["twice"] == 0))
    print(f"[load] RESULT {'OK' if ok else 'FAILED'}  (p50 {percentile(lat, 50) * 1000:.0f} ms, "
          f"p95 {percentile(lat, 95) * 1000:.0f} ms)")
    if not args.keep:
        env.drop()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
