"""Pages of an in-memory list with the interface of Flask-SQLAlchemy's
Pagination (what `_partials/pagination.html` reads), for lists that are
ordered in Python (e.g. ranked by the matcher) before they are cut into pages."""

from __future__ import annotations

from math import ceil


class ListPage:
    def __init__(self, items: list, page: int, per_page: int):
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(ceil(self.total / per_page), 1)
        self.page = min(max(page, 1), self.pages)
        self.items = items[(self.page - 1) * per_page: self.page * per_page]

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge: int = 2, left_current: int = 2, right_current: int = 4, right_edge: int = 2):
        """Page numbers to link, None for a gap (as Flask-SQLAlchemy does)."""
        last = 0
        for num in range(1, self.pages + 1):
            if (num <= left_edge or self.page - left_current <= num <= self.page + right_current
                    or num > self.pages - right_edge):
                if last + 1 != num:
                    yield None
                yield num
                last = num
