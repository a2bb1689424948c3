"""One way to page lists, used by the web pages and the API alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet


@dataclass(frozen=True)
class Page:
    items: list[Any]
    count: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def paginate(qs: QuerySet[Any], *, page: Any = 1, page_size: Any = None) -> Page:
    cfg = settings.FANGKONG
    size = min(max(_as_int(page_size, cfg["PAGE_SIZE"]), 1), cfg["MAX_PAGE_SIZE"])
    number = max(_as_int(page, 1), 1)
    count = qs.count()
    start = (number - 1) * size
    items = list(qs[start : start + size]) if start < count else []
    return Page(items=items, count=count, page=number, page_size=size)
