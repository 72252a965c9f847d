"""Dashboard panels for needs: owners, coordinators, proposers."""

from __future__ import annotations

from sqlalchemy import func, select

from oims.core.vocabulary import NEED_STATUSES
from oims.extensions import db
from oims.models import Need
from oims.needs.labels import status_labels
from oims.needs.search import review_count, review_queue, search_needs
from oims.policy import owner_label
from oims.web.i18n import current_locale


def owner_panel(user):
    if not user.is_need_owner:
        return None
    rows = dict(db.session.execute(select(Need.status, func.count(Need.id)).where(
        Need.owner_org_id == user.organisation_id).group_by(Need.status)).all())
    counts = [(s, rows.get(s, 0)) for s in NEED_STATUSES]
    return "needs/_panel_owner.html", {"counts": counts, "labels": status_labels(), "total": sum(rows.values())}


def coordinator_panel(user):
    if not user.is_staff:
        return None
    return "needs/_panel_coordinator.html", {"queue": review_queue(user, limit=5), "count": review_count(user)}


def proposer_panel(user):
    if not user.is_proposer:
        return None
    page = search_needs(user, "", {}, "newest", 1, per_page=5)
    return "needs/_panel_proposer.html", {
        "needs": page.items, "total": page.total, "capped": page.total_capped,
        "labels": {n.id: owner_label(n, user, current_locale()) for n in page.items},
    }
