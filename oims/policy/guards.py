"""Route guards. Every view checks who may act before it does any work;
object-level rules live in each feature's `policy` functions."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from oims.core.vocabulary import STAFF_ROLES


def roles_required(*roles: str):
    """Allow only logged-in, active users with one of `roles` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles and not current_user.is_admin:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the access-matrix test
        return wrapped

    return decorator


staff_required = roles_required(*STAFF_ROLES)
