"""Crash: kill -9 the gunicorn server (master and workers) in the middle of a
proposal burst, restart it, and check that nothing acknowledged was lost.

    .venv/bin/python bench/crash_proposals.py --db sqlite
    .venv/bin/python bench/crash_proposals.py --db postgres
    .venv/bin/python bench/crash_proposals.py --db sqlite --short

After the restart: every acknowledged proposal is present exactly once, no
proposal is half-written (submitted without its receipt or its event), the
server accepts proposals again, and the matcher's index — possibly behind
the database after the crash — is repaired to match it (the same repair the
encoding worker runs at its start and `flask oims reindex --changed-only`).
"""

from __future__ import annotations

import argparse
import threading
import time

from load_common import (
    BenchEnv,
    Server,
    check_stored,
    index_state,
    make_schema,
    repair_index,
    seed_needs_and_proposers,
    summary_ms,
)
from load_proposals import run_burst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--proposers", type=int, default=50)
    ap.add_argument("--proposals", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--kill-after", type=float, default=0.4, help="kill when this share was acknowledged")
    ap.add_argument("--short", action="store_true", help="CI size: 10 proposers, 100 proposals")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.short:
        args.proposers, args.proposals = 10, 100
    per = max(1, args.proposals // args.proposers)
    target = per * args.proposers

    env = BenchEnv(db=args.db, name="oims_bench_crash")
    env.fresh_database()
    app = env.app()
    make_schema(app)
    seeded = seed_needs_and_proposers(app, needs=max(per * 2, 20), proposers=args.proposers)
    server = Server(env, workers=args.workers)
    server.start()
    print(f"[crash] db={args.db} workers={args.workers} proposers={args.proposers} target={target}")

    stop = threading.Event()
    box: dict = {}
    burst = threading.Thread(target=lambda: box.update(run_burst(
        server.base, seeded["proposer_emails"], seeded["need_ids"], per, stop=stop, tag="crash")), daemon=True)
    burst.start()
    # Kill when enough were acknowledged (the proposals table is the cheapest probe).
    from sqlalchemy import func, select

    from oims.extensions import db
    from oims.models import Proposal

    killed_at = None
    deadline = time.monotonic() + 600
    while burst.is_alive() and time.monotonic() < deadline:
        with app.app_context():
            n = db.session.scalar(select(func.count(Proposal.id)))
            db.session.remove()
        if n >= target * args.kill_after:
            server.kill9()
            killed_at = n
            stop.set()
            break
        time.sleep(0.05)
    burst.join(timeout=120)
    acked = box.get("acked", {})
    print(f"[crash] kill -9 at ~{killed_at} stored rows; acknowledged before the crash: {len(acked)}; "
          f"client errors: {box.get('failures')}")
    if killed_at is None:
        print("[crash] the burst ended before the kill point; nothing was tested")

    before = index_state(app, settle_seconds=0)
    print(f"[crash] index right after the crash: {before}")
    server2 = Server(env, workers=args.workers)
    t0 = time.perf_counter()
    server2.start()
    print(f"[crash] restarted in {time.perf_counter() - t0:.1f} s")
    try:
        stored = check_stored(app, acked)
        print(f"[crash] stored rows {stored['rows']}, acknowledged {stored['acknowledged']}, "
              f"stored without acknowledgement (in flight at the kill) {stored['unacknowledged_but_stored']}, "
              f"problems {len(stored['problems'])}")
        for p in stored["problems"][:10]:
            print("   ", p)
        # The server takes proposals again after the restart.
        again = run_burst(server2.base, seeded["proposer_emails"][:5], seeded["need_ids"][-5:], 1, tag="after")
        print(f"[crash] after restart: {len(again['acked'])}/5 acknowledged, {summary_ms(again['latencies'])}")
        acked.update(again["acked"])
    finally:
        server2.stop()
    repaired = repair_index(app)
    after = index_state(app)
    print(f"[crash] repair: {repaired}")
    print(f"[crash] index after repair: {after}")
    final = check_stored(app, acked)
    ok = (killed_at is not None and not final["problems"] and len(again["acked"]) == 5
          and (not after.get("enabled") or (after["missing"] == 0 and after["stray"] == 0)))
    print(f"[crash] RESULT {'OK' if ok else 'FAILED'}")
    if not args.keep:
        env.drop()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
