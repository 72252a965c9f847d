"""Load the demo data of `oims.demo_data` idempotently.

Objects are found by a natural key (organisation name, user e-mail, need
title, proposal (need, organisation)); existing ones are left as they are,
so running the command twice gives the same data.
"""

from __future__ import annotations

from sqlalchemy import select

from . import demo_data as data
from .extensions import db
from .models import Organisation, User
from .passwords import hash_password

# Later features add steps here: each is called as step(orgs_by_key, users_by_email)
# and returns a dict of counts.
EXTRA_STEPS: list = []


def register_step(step) -> None:
    """Called from a feature's init_app; safe to call for every app created."""
    if step not in EXTRA_STEPS:
        EXTRA_STEPS.append(step)


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
    for step in EXTRA_STEPS:
        counts.update(step(orgs, users) or {})
    db.session.commit()
    logins = {}
    for row in data.DEMO_USERS:
        logins.setdefault(row["role"], row["email"])
    return {"counts": counts, "logins": logins}
