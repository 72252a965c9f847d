"""Load the demo data (`oims/data/demo/*.toml`, read by `oims.demo_data`) idempotently.

Objects are found by a natural key (organisation name, user e-mail, need
title, proposal (need, organisation)); existing ones are left as they are,
so running the command twice gives the same data.
"""

from __future__ import annotations

from sqlalchemy import select

from . import demo_data as data
from .audit.demo import demo_step as load_demo_owner_views
from .brokerage.demo import demo_step as load_demo_brokerage
from .calls.demo import demo_step as load_demo_calls
from .checkins.demo import demo_step as load_demo_checkins
from .endorsements.demo import demo_step as load_demo_endorsements
from .extensions import db
from .fairdeal.demo import demo_step as load_demo_fair_dealing
from .matchfeed.demo import demo_step as load_demo_judgments
from .models import Organisation, User
from .needs.demo import load_demo_needs
from .orgs.demo import demo_step as load_demo_pending_orgs
from .passwords import hash_password
from .proposals.demo import load_demo_proposals
from .proposals.demo_edits import demo_step as load_demo_proposal_edits
from .ratings.demo import demo_step as load_demo_ratings

# After organisations and users, in this order: each step is called as
# step(orgs_by_key, users_by_email) and returns a dict of counts.
STEPS = (load_demo_needs, load_demo_proposals, load_demo_brokerage, load_demo_fair_dealing, load_demo_checkins,
         load_demo_endorsements, load_demo_judgments, load_demo_owner_views, load_demo_proposal_edits,
         load_demo_pending_orgs, load_demo_calls, load_demo_ratings)


def _orgs() -> dict[str, Organisation]:
    out = {}
    for row in data.ORGANISATIONS:
        org = db.session.scalar(select(Organisation).where(Organisation.name == row["name"]))
        if org is None:
            org = Organisation(name=row["name"])
            for field in ("name_kana", "name_en", "kind", "industry", "employee_band", "website", "profile"):
                setattr(org, field, row.get(field, ""))
            org.technologies = list(row.get("technologies", []))
            org.certifications = list(row.get("certifications", []))
            org.patents = list(row.get("patents", []))
            org.set_prefecture(row["prefecture"])
            db.session.add(org)
        out[row["key"]] = org
    db.session.flush()
    return out


def _users(orgs: dict[str, Organisation], password: str) -> dict[str, User]:
    out = {}
    pw_hash = None
    admins_seen: set[str] = set()
    for row in data.DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == row["email"]))
        if user is None:
            pw_hash = pw_hash or hash_password(password)
            user = User(email=row["email"], name=row["name"], password_hash=pw_hash, role=row["role"],
                        organisation=orgs[row["org"]], language=row.get("language"),
                        # the first demo user of each organisation administers it
                        is_org_admin=row["org"] not in admins_seen)
            db.session.add(user)
        admins_seen.add(row["org"])
        out[row["email"]] = user
    db.session.flush()
    return out


def load_demo(password: str = "oims-demo-2026") -> dict:
    orgs = _orgs()
    users = _users(orgs, password)
    counts = {"organisations": len(orgs), "users": len(users)}
    for step in STEPS:
        counts.update(step(orgs, users) or {})
    db.session.commit()
    logins = {}
    for row in data.DEMO_USERS:
        logins.setdefault(row["role"], row["email"])
    return {"counts": counts, "logins": logins}
