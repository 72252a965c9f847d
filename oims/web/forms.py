"""Glue between service errors and WTForms forms."""

from __future__ import annotations

from oims.core.exceptions import ValidationFailed


def apply_errors(form, exc: ValidationFailed) -> list[str]:
    """Attach a service's errors to a WTForms form; return the form-level ones."""
    general = []
    for field, messages in exc.errors.items():
        target = getattr(form, field, None) if field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            general.extend(messages)
    return general
