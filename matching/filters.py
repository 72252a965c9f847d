"""Metadata filters and small row-selection helpers shared by the collection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def as_texts(texts: list[str] | str) -> list[str]:
    items = [texts] if isinstance(texts, str) else list(texts)
    return [t.strip() for t in items if t and t.strip()]


def values(v: Any) -> set[str]:
    """A filter or meta value as a set of strings; None and "" mean "no value"."""
    items = v if isinstance(v, list | tuple | set | frozenset) else [v]
    return {str(x) for x in items if x is not None and x != ""}


def matches(meta: Mapping[str, Any], filters: Mapping[str, Any] | None) -> bool:
    """Every filter key must match; a list means any of; list-valued fields match on overlap."""
    if not filters:
        return True
    return all(not values(want) or bool(values(want) & values(meta.get(key)))
               for key, want in filters.items())


def matching_items(items: Iterable[tuple[int, Mapping[str, Any]]],
                   filters: Mapping[str, Any] | None, exclude: set[int] | None) -> set[int]:
    return {i for i, meta in items if not (exclude and i in exclude) and matches(meta, filters)}


def top_rows(values_: np.ndarray, ok: np.ndarray, n: int) -> np.ndarray:
    """Rows of the n largest finite values among allowed rows."""
    masked = np.where(ok, values_, -np.inf)
    n = min(n, int(np.isfinite(masked).sum()))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-masked, n - 1)[:n]
    return top[np.isfinite(masked[top])]
