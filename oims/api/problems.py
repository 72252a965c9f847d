"""API errors: one exception for the endpoints to raise, and the mapping of
it and of the services' refusals (`oims.core.exceptions`, the same the pages
handle) to RFC 9457 problem+json responses."""

from __future__ import annotations

from flask_babel import gettext as _

from oims.core.exceptions import EditConflict, NotAllowed, StaleState, ValidationFailed
from oims.web.errors import problem


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str = "", errors: dict | None = None):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


HANDLED = (ApiError, NotAllowed, ValidationFailed, EditConflict)


def etag_of(obj) -> str:
    """The strong entity tag of a versioned object: changes with every saved change."""
    return f"{type(obj).__name__.lower()}-{obj.id}-v{obj.row_version}"


def to_problem(exc: Exception):
    if isinstance(exc, ApiError):
        extra = {"errors": exc.errors} if exc.errors else {}
        return problem(exc.status, exc.title, exc.detail, **extra)
    if isinstance(exc, EditConflict):
        return problem(412, _("Precondition failed"),
                       _("The object was changed since you read it (now %(etag)s). Nothing was changed; "
                         "GET it again, re-apply your change and send the new ETag.", etag=etag_of(exc.obj)))
    if isinstance(exc, StaleState):
        return problem(409, _("Conflict"), str(exc), current=exc.current) if exc.current else \
            problem(409, _("Conflict"), str(exc))
    if isinstance(exc, NotAllowed):
        return problem(403, _("Forbidden"), _("Your account may not do this."))
    assert isinstance(exc, ValidationFailed)
    return problem(422, _("Invalid values"), _("Some values were refused; see “errors”."), errors=exc.errors)
