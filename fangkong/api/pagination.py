"""One way to page every API list: ?page=1&page_size=50 -> {count, page, page_size, pages, results}.

settings.NINJA_PAGINATION_CLASS points here, so app routers (which may not import this, the
top layer) get it with ninja's plain `@paginate`. `@paginate(present=fn)` turns each row of the
page into what the viewer may see (fn(request, obj), e.g. a masked person) after the page is cut,
so masking runs on at most one page of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from fangkong.core.pagination import paginate

Presenter = Callable[[HttpRequest, Any], Any]


class PageParams(Schema):
    page: int = Field(1, ge=1, description="页码，从 1 开始")
    page_size: int | None = Field(
        None,
        ge=1,
        description=(
            f"每页条数，默认 {settings.FANGKONG['PAGE_SIZE']}，"
            f"超过 {settings.FANGKONG['MAX_PAGE_SIZE']} 按 "
            f"{settings.FANGKONG['MAX_PAGE_SIZE']} 计"
        ),
    )


class PageNumberPagination(PaginationBase):
    Input = PageParams

    class Output(Schema):
        count: int = Field(..., description="符合条件的总条数")
        page: int = Field(..., description="当前页码")
        page_size: int = Field(..., description="每页条数")
        pages: int = Field(..., description="总页数（至少为 1）")
        results: list[Any]

    items_attribute = "results"

    def __init__(self, *, present: Presenter | None = None, **kwargs: Any) -> None:
        self.present = present
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        page = paginate(queryset, page=pagination.page, page_size=pagination.page_size)
        items = page.items
        if self.present is not None:
            items = [self.present(request, item) for item in items]
        return {
            "count": page.count,
            "page": page.page,
            "page_size": page.page_size,
            "pages": page.pages,
            "results": items,
        }
