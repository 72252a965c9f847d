"""The one way an HTML view runs a form action.

A page that changes something calls a service and then either commits, flashes
and redirects, or rolls back and shows what went wrong. `run_action` is that
block, written once (the JSON API has its twin in `oims.api.auth`):

    return run_action(
        lambda: services.withdraw_proposal(proposal, actor=current_user, note=form.note.data),
        success=_("Your proposal was withdrawn."),
        redirect_to=url_for("proposals.view", proposal_id=proposal.id),
        on_invalid=lambda errors, status: render_view(proposal, status, general_errors=errors),
        form=form,
    )

- `NotAllowed`: roll back, 403.
- `ValidationFailed`: roll back; field errors go onto `form` (when given), the
  rest reach `on_invalid(errors, status)` — status 409 when the action lost a race
  (`StaleState`), else 400. Without `on_invalid` the errors are flashed and the
  browser goes back to `redirect_to`.
- Success: commit once, flash `success` (a string, or a function of the
  service's result; its `category` likewise), redirect to `redirect_to` (a URL
  or a function of the result).

Two optional hooks for pages that show more than messages:

- `on_refused(exc, status)` replaces `on_invalid` when the page needs the
  service's exception itself (errors keyed by field without a WTForms form, or
  an attribute such as the existing duplicate); nothing is applied to `form`.
- `on_conflict()` is the edit-conflict page: when the action raises
  `EditConflict` (the form's version is old) or the version check of the
  UPDATE fails (`StaleDataError`, at flush or at commit), roll back and
  return it (status 409 is the page's own).

Access checks stay before the call, in the view (`oims.policy`); services flush
and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect
from sqlalchemy.orm.exc import StaleDataError

from oims.core.exceptions import EditConflict, NotAllowed, StaleState, ValidationFailed
from oims.extensions import db
from oims.web.forms import apply_errors

OnInvalid = Callable[[list[str], int], Any]
OnRefused = Callable[[ValidationFailed, int], Any]


def run_action(action: Callable[[], Any], *, success: str | Callable[[Any], str] | None,
               redirect_to: str | Callable[[Any], str], on_invalid: OnInvalid | None = None,
               form=None, category: str | Callable[[Any], str] = "success", on_refused: OnRefused | None = None,
               on_conflict: Callable[[], Any] | None = None):
    conflicts = (EditConflict, StaleDataError) if on_conflict is not None else ()
    try:
        result = action()
        if conflicts:
            db.session.commit()  # the version check of the UPDATE happens here
    except conflicts:
        db.session.rollback()
        return on_conflict()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, StaleState) else 400
        if on_refused is not None:
            return on_refused(exc, status)
        errors = apply_errors(form, exc) if form is not None else error_messages(exc)
        if on_invalid is None:
            for message in errors or error_messages(exc):
                flash(message, "warning")
            return redirect(redirect_to(None) if callable(redirect_to) else redirect_to)
        return on_invalid(errors, status)
    if not conflicts:
        db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, category(result) if callable(category) else category)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def error_messages(exc: ValidationFailed) -> list[str]:
    """Every message of a service's refusal, field messages included, in order."""
    return [m for messages in exc.errors.values() for m in messages]
