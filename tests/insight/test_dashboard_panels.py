"""The coordinator's dashboard at national scale: its panels load what they
show, not every row behind it (the review queue counts in SQL and lists five;
the stalled cases are the twenty longest stalled, picked in SQL)."""

from __future__ import annotations

import re
from datetime import timedelta

from oims.models.base import utcnow
from tests.factories import login


def _dashboard(client, user) -> str:
    assert login(client, user).status_code == 302
    return client.get("/dashboard").get_data(as_text=True)


def test_review_panel_counts_every_waiting_need_and_lists_five(client, cast, factory):
    owner = cast.owner
    for i in range(7):
        factory.need(owner, status="review", title=f"審査待ちのニーズ{i}")
    body = _dashboard(client, cast.coordinator)
    assert re.search(r'badge text-bg-primary">\s*7\s*<', body)
    assert len(re.findall(r"審査待ちのニーズ\d", body)) == 5


def test_stalled_panel_shows_the_twenty_longest_stalled(client, cast, factory, db):
    need = factory.need(cast.owner)
    now = utcnow()
    for i in range(25):  # stalled for 60 days down to 36
        p = factory.proposal(need, stage="shortlisted", title=f"停滞案件{i:02d}")
        p.last_activity_at = now - timedelta(days=60 - i)
    fresh = factory.proposal(need, stage="shortlisted", title="動いている案件")
    fresh.last_activity_at = now
    db.session.commit()
    body = _dashboard(client, cast.coordinator)
    panel = body.split("panel-stalled", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"停滞案件\d\d", panel) == [f"停滞案件{i:02d}" for i in range(20)]
    assert "動いている案件" not in panel
