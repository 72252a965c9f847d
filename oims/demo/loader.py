"""Load the demo data (`oims/data/demo/*.toml`, read by `oims.demo_data`) idempotently.

Objects are found by a natural key (organisation name, user e-mail, need
title, proposal (need, organisation)); existing ones are left as they are,
so running the command twice gives the same data.
"""

from __future__ import annotations

from sqlalchemy import select

from oims.audit.demo import demo_step as load_demo_owner_views
from oims.auth.passwords import hash_password
from oims.brokerage.demo import demo_step as load_demo_brokerage
from oims.calls.demo import demo_step as load_demo_calls
from oims.checkins.demo import demo_step as load_demo_checkins
from oims.demo import data
from oims.endorsements.demo import demo_step as load_demo_endorsements
from oims.extensions import db
from oims.fairdeal.demo import demo_step as load_demo_fair_dealing
from oims.matchfeed.demo import demo_step as load_demo_judgments
from oims.models import Organisation, User
from oims.needs.demo import load_demo_needs
from oims.orgs.demo import demo_step as load_demo_pending_orgs
from oims.proposals.demo import load_demo_proposals
from oims.proposals.demo_edits import demo_step as load_demo_proposal_edits
from oims.ratings.demo import demo_step as load_demo_ratings

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
