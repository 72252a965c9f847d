"""Who may see or change an organisation."""

from __future__ import annotations

from oims.models import Organisation, User


def can_view_org(user: User, org: Organisation) -> bool:
    # Coordinators recommend firms across regions, so they see every profile.
    return user.is_staff or user.organisation_id == org.id


def can_edit_org(user: User, org: Organisation) -> bool:
    if user.is_admin:
        return True
    if user.is_coordinator:
        return org.bureau == user.bureau
    return user.organisation_id == org.id and user.is_org_admin
