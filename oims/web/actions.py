"""The one way an HTML view runs a form action.

A page that changes something calls a service and then either commits, flashes
and redirects, or rolls back and shows what went wrong. `run_action` is that
block, written once (the JSON API has its twin in `oims.api.auth`):

    return run_action(
        lambda: services.withdraw_proposal(proposal, actor=current_user, note=form.note.data),
        success=_("Your proposal was withdrawn."),
        redirect_to=url_for("proposals.view", proposal_id=proposal.id),
        on_invalid=lambda errors, status: _render_view(proposal, status, general_errors=errors),
        form=form,
    )

- `NotAllowed`: roll back, 403.
- `ValidationFailed`: roll back; field errors go onto `form` (when given), the
  rest reach `on_invalid(errors, status)` — status 409 when the action lost a race
  (`StaleState`), else 400. Without `on_invalid` the errors are flashed and the
  browser goes back to `redirect_to`.
- Success: commit once, flash `success` (a string, or a function of the
  service's result), redirect to `redirect_to` (a URL or a function of the result).

Access checks stay before the call, in the view (`oims.policy`); services flush
and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect

from oims.core.exceptions import NotAllowed, StaleState, ValidationFailed
from oims.extensions import db
from oims.web.forms import apply_errors

OnInvalid = Callable[[list[str], int], Any]


def run_action(action: Callable[[], Any], *, success: str | Callable[[Any], str] | None,
               redirect_to: str | Callable[[Any], str], on_invalid: OnInvalid | None = None,
               form=None, category: str = "success"):
    try:
        result = action()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationFailed as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, StaleState) else 400
        errors = apply_errors(form, exc) if form is not None else error_messages(exc)
        if on_invalid is None:
            for message in errors or error_messages(exc):
                flash(message, "warning")
            return redirect(redirect_to(None) if callable(redirect_to) else redirect_to)
        return on_invalid(errors, status)
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, category)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def error_messages(exc: ValidationFailed) -> list[str]:
    """Every message of a service's refusal, field messages included, in order."""
    return [m for messages in exc.errors.values() for m in messages]
