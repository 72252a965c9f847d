"""OIMS_SERVER_TIMING=1: responses say how long the app took, its CPU time and
its SQL (what the load benches read); off by default."""

from __future__ import annotations

import re

from sqlalchemy import select

from oims.models import Proposal

from ..factories import login
from .conftest import proposal_form

TIMING = re.compile(r'^app;dur=([\d.]+), cpu;dur=([\d.]+), db;dur=([\d.]+);desc="(\d+) statements"$')


def test_server_timing_header_on_a_submission(cast, need, variant_app, db):
    app = variant_app(OIMS_SERVER_TIMING=True)
    client = app.test_client()
    assert login(client, cast.proposer).status_code == 302
    resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    assert resp.status_code == 302
    m = TIMING.match(resp.headers["Server-Timing"])
    assert m, resp.headers["Server-Timing"]
    wall, cpu, sql, statements = float(m[1]), float(m[2]), float(m[3]), int(m[4])
    assert 0 < cpu and 0 < sql < wall and 5 <= statements <= 30
    assert db.session.scalar(select(Proposal.stage).where(Proposal.org_id == cast.proposer.organisation_id)) \
        == "submitted"


def test_no_server_timing_header_by_default(cast, need, client):
    assert login(client, cast.proposer).status_code == 302
    assert "Server-Timing" not in client.get(f"/proposals/new?need_id={need.id}").headers
