"""`schemathesis run --checks all` against the app served over real HTTP (a
thread on 127.0.0.1, the suite's database with a small marketplace), as a
coordinator and as a need owner: no check fails. Slow (a minute or two)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..insight import world

PORT = int(os.environ.get("OIMS_H7_SCHEMATHESIS_PORT", "5171"))


def _cli() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    assert Path(found).exists(), "schemathesis is in requirements-dev.txt"
    return found


@pytest.mark.slow
@pytest.mark.parametrize("role", ["coord_chubu", "owner_a"])
def test_schemathesis_checks_all(app, factory, db, token_for, tmp_path, role, monkeypatch):
    from matching import Reason, Result
    from oims.matcher import service as matching_service
    from oims.models import Need, Organisation, Proposal

    w = world.build(factory, db, anonymous_n1=True)
    # The matcher is off in tests (503): stand in with every candidate, as test_openapi does.
    monkeypatch.setattr(matching_service, "rank_proposals", lambda need, k=100: [
        matching_service.RankedProposalHit(p.id, 0.5, [Reason("理由")], [], 0.5, "medium")
        for p in db.session.query(Proposal).limit(k)])
    monkeypatch.setattr(matching_service, "recommend_orgs", lambda need, k=20, **kw: [
        Result(o.id, 0.5, []) for o in db.session.query(Organisation).limit(k)])
    monkeypatch.setattr(matching_service, "needs_for_org", lambda org, k=10, **kw: [
        Result(n.id, 0.5, []) for n in db.session.query(Need).limit(k)])
    # Schema-valid requests that a documented rule still refuses: a stale or
    # missing If-Match (412/428), a business rule (422: e.g. a past deadline),
    # a lost state race (409). Everything else must be accepted.
    config = tmp_path / "schemathesis.toml"
    config.write_text('[checks.positive_data_acceptance]\n'
                      'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "428", "429"]\n'
                      # A missing If-Match is answered 428 Precondition Required (RFC 6585), as documented.
                      '[checks.missing_required_header]\n'
                      'expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]\n')
    token = token_for(w[role])
    db.session.commit()
    server = make_server("127.0.0.1", PORT, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = subprocess.run(
            [_cli(), "--config-file", str(config), "run", f"http://127.0.0.1:{PORT}/api/v1/openapi.json", "--checks", "all",
             "-H", f"Authorization: Bearer {token}", "--max-examples", "15", "--seed", "11",
             "--generation-deterministic", "--request-timeout", "20", "--no-color",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False)
    finally:
        server.shutdown()
        thread.join(10)
    out = proc.stdout + proc.stderr
    if os.environ.get("OIMS_H7_SCHEMATHESIS_LOG"):
        Path(os.environ["OIMS_H7_SCHEMATHESIS_LOG"]).write_text(out)
    assert proc.returncode == 0, out[-6000:]
