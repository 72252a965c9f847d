"""Demo step (h13): one themed call of the Kanto bureau with four published
demo needs of three owners (two of them anonymous). Idempotent: the call is
keyed by its title, its needs by (call, need)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oims.core.timeutil import today_local
from oims.core.vocabulary import NeedStatus
from oims.demo import data
from oims.extensions import db
from oims.models import Need, Organisation, ThemedCall, ThemedCallNeed, User


def demo_step(orgs: dict[str, Organisation], users: dict[str, User]) -> dict:
    counts = {"calls": 0, "call_needs": 0}
    for row in data.read("calls"):
        runner = users.get(row["run_by"])
        if runner is None:
            continue
        call = db.session.scalar(select(ThemedCall).where(ThemedCall.title == row["title"]))
        if call is None:
            call = ThemedCall(title=row["title"], title_en=row.get("title_en", ""),
                              description=row.get("description", ""), bureau=runner.bureau,
                              deadline=today_local() + timedelta(days=row["deadline_days"]),
                              org_id=runner.organisation_id, created_by_id=runner.id)
            db.session.add(call)
            db.session.flush()
        counts["calls"] += 1
        for title in row["needs"]:
            need = db.session.scalar(select(Need).where(Need.title == title, Need.status == NeedStatus.PUBLISHED))
            if need is None:
                continue
            if not db.session.scalar(select(ThemedCallNeed.id).where(ThemedCallNeed.call_id == call.id,
                                                                     ThemedCallNeed.need_id == need.id)):
                db.session.add(ThemedCallNeed(call_id=call.id, need_id=need.id, added_by_id=runner.id))
            counts["call_needs"] += 1
    db.session.flush()
    return counts
