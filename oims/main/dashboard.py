"""Dashboard panels. Each feature registers functions that, for a user,
return `(template, context)` or None; the dashboard shows them in order.
Features stay independent of one another and of this page."""

from __future__ import annotations

from collections.abc import Callable

PanelFn = Callable[[object], "tuple[str, dict] | None"]
PANELS: list[tuple[int, PanelFn]] = []


def panel(order: int = 50):
    def register(fn: PanelFn) -> PanelFn:
        if all(existing is not fn for _, existing in PANELS):
            PANELS.append((order, fn))
            PANELS.sort(key=lambda item: item[0])
        return fn

    return register


def panels_for(user) -> list[tuple[str, dict]]:
    out = []
    for _, fn in PANELS:
        result = fn(user)
        if result:
            out.append(result)
    return out
