from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from oims.auth.views import safe_next
from oims.extensions import db
from oims.main.dashboard import panels_for
from oims.models import Notification, Organisation
from oims.models.base import utcnow
from oims.web.i18n import SUPPORTED

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    by_kind = dict(db.session.execute(
        select(Organisation.kind, func.count(Organisation.id)).group_by(Organisation.kind)).all())
    counts = {kind: by_kind.get(kind, 0) for kind in ("large", "sme", "university", "institute", "startup")}
    return render_template("main/index.html", counts=counts)


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("main/dashboard.html", panels=panels_for(current_user))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code not in SUPPORTED:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.language = code
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.get("/notifications")
@login_required
def notifications():
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc()).limit(200)
    ).all()
    return render_template("main/notifications.html", items=items)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    for note in db.session.scalars(select(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None))):
        note.read_at = utcnow()
    db.session.commit()
    return redirect(url_for("main.notifications"))


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
