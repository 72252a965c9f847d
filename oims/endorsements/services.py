"""Endorsement operations: check who acts, change rows, flush; the view commits."""

from __future__ import annotations

from datetime import date, timedelta

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from oims.audit.log import audit
from oims.core.exceptions import NotAllowed, ValidationFailed
from oims.core.reference import PROPOSER_KINDS
from oims.core.timeutil import today_local
from oims.extensions import db
from oims.models import Endorsement, Organisation, User
from oims.models.base import utcnow
from oims.models.casework import ENDORSER_KINDS

DEFAULT_YEARS = 2
MAX_YEARS = 5
MAX_NOTE = 1000


def kind_labels() -> dict[str, str]:
    return {"kosetsushi": _("Public research institute (公設試)"), "chamber": _("Chamber of commerce (商工会議所)"),
            "bank": _("Financial institution (金融機関)"),
            "university_ilo": _("University industry-liaison office"), "bureau": _("METI regional bureau")}


def endorser_kind(user: User) -> str:
    """The capacity in which `user` endorses ("" when it may not)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ""
    if user.is_staff:
        return "bureau"
    return user.organisation.endorser_kind or ""


def may_manage_endorsers(user: User, org: Organisation) -> bool:
    return user.is_admin or (user.is_coordinator and org.bureau == user.bureau)


def set_endorser(org: Organisation, kind: str, *, actor: User) -> None:
    """Allow (kind) or stop ("") an organisation endorsing; coordinators of its bureau."""
    if not may_manage_endorsers(actor, org):
        raise NotAllowed()
    if kind and kind not in ENDORSER_KINDS:
        raise ValidationFailed({"kind": [_("Choose the kind of support body.")]})
    if kind and org.kind in ("large",):
        raise ValidationFailed({"org_id": [_("Only support bodies, research institutes, universities and "
                                             "financial institutions can endorse.")]})
    org.endorser_kind = kind
    audit(actor, "org.endorser_set" if kind else "org.endorser_removed", org, kind=kind)
    db.session.flush()


def endorsable_orgs(user: User) -> list[Organisation]:
    q = select(Organisation).where(Organisation.kind.in_(PROPOSER_KINDS)).order_by(Organisation.bureau,
                                                                                  Organisation.name)
    if not user.is_admin:
        q = q.where(Organisation.bureau == user.bureau)
    return [o for o in db.session.scalars(q) if o.id != user.organisation_id]


def endorse(org: Organisation, *, actor: User, capability: str, note: str = "",
            expires_on: date | None = None) -> Endorsement:
    kind = endorser_kind(actor)
    if not kind:
        raise NotAllowed()
    if org.id == actor.organisation_id:
        raise ValidationFailed({"org_id": [_("An organisation cannot endorse itself.")]})
    if org.kind not in PROPOSER_KINDS or (not actor.is_admin and org.bureau != actor.bureau):
        raise NotAllowed()
    today = today_local()
    capability = (capability or "").strip()
    note = (note or "").strip()
    expires_on = expires_on or today.replace(year=today.year + DEFAULT_YEARS) - timedelta(days=0)
    errors: dict[str, list[str]] = {}
    if not capability:
        errors["capability"] = [_("Name the capability you endorse.")]
    elif len(capability) > 200:
        errors["capability"] = [_("Too long: at most %(max)d characters (now %(n)d).", max=200, n=len(capability))]
    if len(note) > MAX_NOTE:
        errors["note"] = [_("Too long: at most %(max)d characters (now %(n)d).", max=MAX_NOTE, n=len(note))]
    if expires_on <= today or expires_on > today + timedelta(days=366 * MAX_YEARS):
        errors["expires_on"] = [_("Choose an expiry date after today and within %(years)d years.", years=MAX_YEARS)]
    if errors:
        raise ValidationFailed(errors)
    item = Endorsement(org_id=org.id, capability=capability, note=note, endorser_org_id=actor.organisation_id,
                       endorser_user_id=actor.id, endorsed_on=today, expires_on=expires_on)
    db.session.add(item)
    db.session.flush()
    audit(actor, "endorsement.created", item, org_id=org.id, capability=capability, kind=kind)
    return item


def may_withdraw(user: User, item: Endorsement) -> bool:
    if user.is_admin:
        return True
    if user.is_coordinator and item.org.bureau == user.bureau:
        return True
    return bool(endorser_kind(user)) and user.organisation_id == item.endorser_org_id


def withdraw(item: Endorsement, *, actor: User) -> None:
    if not may_withdraw(actor, item):
        raise NotAllowed()
    if item.withdrawn_at is not None:
        raise ValidationFailed(_("This endorsement was already withdrawn."))
    item.withdrawn_at = utcnow()
    item.withdrawn_by_id = actor.id
    audit(actor, "endorsement.withdrawn", item, org_id=item.org_id)
    db.session.flush()


def endorsed(org_id: int) -> list[Endorsement]:
    """Active endorsements of an organisation (a Jinja global; loaded once per request)."""
    cache = g.setdefault("oims_endorsements", None)
    if cache is None:
        today = today_local()
        cache = {}
        for item in db.session.scalars(select(Endorsement).where(
                Endorsement.withdrawn_at.is_(None), Endorsement.expires_on >= today)
                .order_by(Endorsement.endorsed_on.desc(), Endorsement.id)):
            cache.setdefault(item.org_id, []).append(item)
        g.oims_endorsements = cache
    return cache.get(org_id, [])


def given_by(user: User) -> list[Endorsement]:
    q = select(Endorsement).order_by(Endorsement.id.desc())
    if user.is_staff and not user.is_admin:
        q = q.where(Endorsement.org_id.in_(select(Organisation.id).where(Organisation.bureau == user.bureau)))
    elif not user.is_admin:
        q = q.where(Endorsement.endorser_org_id == user.organisation_id)
    return list(db.session.scalars(q))
