"""Pagination as both forges do it: ``per_page`` (at most 100) and ``page`` in, a ``Link``
header (RFC 8288) out; GitLab adds its ``X-Total``/``X-Next-Page``/... headers.

GitHub: https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
GitLab: https://docs.gitlab.com/api/rest/#pagination
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

MAX_PER_PAGE = 100
T = TypeVar("T")


def _number(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Page:
    number: int
    per_page: int
    total: int
    url: str  # the absolute URL of the list, without a query
    query: dict[str, str]  # the request's other parameters, kept in every link

    @classmethod
    def of(cls, request: HttpRequest, *, total: int, default: int, url: str) -> Page:
        per_page = min(max(_number(request.GET.get("per_page"), default), 1), MAX_PER_PAGE)
        query = {k: str(v) for k, v in request.GET.items() if k not in ("page", "per_page")}
        number = max(_number(request.GET.get("page"), 1), 1)
        return cls(number=number, per_page=per_page, total=total, url=url, query=query)

    @property
    def last(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    def items(self, rows: Sequence[T]) -> Sequence[T]:
        start = (self.number - 1) * self.per_page
        return rows[start : start + self.per_page]

    def link(self, number: int) -> str:
        query = urlencode({**self.query, "page": number, "per_page": self.per_page})
        return f"{self.url}?{query}"

    def _rels(self, rels: list[tuple[str, int]]) -> str:
        return ", ".join(f'<{self.link(n)}>; rel="{rel}"' for rel, n in rels)

    def github_headers(self, response: HttpResponse) -> None:
        """GitHub: prev and first past the first page, next and last before the last."""
        rels = [("prev", self.number - 1)] if self.number > 1 else []
        if self.number < self.last:
            rels += [("next", self.number + 1), ("last", self.last)]
        if self.number > 1:
            rels.append(("first", 1))
        if rels:
            response["Link"] = self._rels(rels)

    def gitlab_headers(self, response: HttpResponse) -> None:
        """GitLab: its X- headers (an empty X-Next-Page on the last page), first and last
        links always."""
        has_next, has_prev = self.number < self.last, self.number > 1
        response["X-Total"] = str(self.total)
        response["X-Total-Pages"] = str(self.last)
        response["X-Per-Page"] = str(self.per_page)
        response["X-Page"] = str(self.number)
        response["X-Next-Page"] = str(self.number + 1) if has_next else ""
        response["X-Prev-Page"] = str(self.number - 1) if has_prev else ""
        rels = [("prev", self.number - 1)] if has_prev else []
        rels += [("next", self.number + 1)] if has_next else []
        response["Link"] = self._rels([*rels, ("first", 1), ("last", self.last)])
