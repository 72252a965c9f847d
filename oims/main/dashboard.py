"""Dashboard panels: functions that, for a user, return `(template, context)`
or None; the dashboard shows them in the order `create_app` lists them
(`app.extensions["oims.panels"]`). Features stay independent of one another
and of this page."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

PanelFn = Callable[[object], "tuple[str, dict] | None"]


def panels_for(user) -> list[tuple[str, dict]]:
    out = []
    for fn in current_app.extensions["oims.panels"]:
        result = fn(user)
        if result:
            out.append(result)
    return out
