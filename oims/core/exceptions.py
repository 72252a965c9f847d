"""Exceptions of the service layer, shared by pages, the API and the CLI.

Services raise them; `oims.web.actions` (pages) and `oims.api.problems` (API)
turn them into responses. Nothing here knows about a feature.
"""

from __future__ import annotations


class ValidationFailed(Exception):
    """A service refused its input; `errors` maps field names to messages
    (the key "" is for errors not tied to one field)."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"": [errors]}
        self.errors = errors
        super().__init__("; ".join(m for ms in errors.values() for m in ms))


class NotAllowed(Exception):
    """The actor may not perform this transition or action."""


class StaleState(ValidationFailed):
    """A state change lost a race: the row was no longer in the state the
    actor saw (the API answers 409). Nothing was changed."""

    def __init__(self, message: str, current: str | None = None):
        super().__init__(message)
        self.current = current


class EditConflict(Exception):
    """An edit was based on an older version of the object (pages show both
    versions; the API answers 412). Nothing was changed."""

    def __init__(self, obj, expected: int | None):
        super().__init__(f"{type(obj).__name__} {obj.id}: version {expected} is not {obj.row_version}")
        self.obj, self.expected = obj, expected
