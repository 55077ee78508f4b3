"""Page-numbered collections: `items`, `_meta`, `_links` and an RFC 8288 Link header.

A page costs two statements whatever its size: one COUNT and one SELECT of the page's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, jsonify, request, url_for
from sqlalchemy import Select, func, select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from microblog.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# Past this a page number is refused: (MAX_PAGE - 1) * per_page must fit a 64-bit OFFSET.
MAX_PAGE = 2**31 - 1
# What a number of more than 18 digits counts as; int() refuses strings of over 4300 digits.
_HUGE = 10**18


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    digits = raw.lstrip("0")
    if not raw.isascii() or not raw.isdigit() or not digits:
        raise BadRequest(f"{name} must be a positive integer, not {raw[:20]!r}")
    return int(digits) if len(digits) <= 18 else _HUGE


def page_request() -> PageRequest:
    """`page` (default 1) and `per_page` (default 10, capped at 100) from the query string."""
    config = current_app.config
    page = _positive_int("page", 1)
    if page > MAX_PAGE:
        raise BadRequest(f"page must be at most {MAX_PAGE}")
    per_page = min(_positive_int("per_page", config["API_PER_PAGE"]), config["API_MAX_PER_PAGE"])
    return PageRequest(page, per_page)


def paginate(query: Select[T], show: Callable[[T], dict[str, Any]]) -> Response:
    """Run `query` for the requested page and answer the collection."""
    wanted = page_request()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows: Sequence[T] = db.session.scalars(query.limit(wanted.per_page).offset(wanted.offset)).all()
    return collection_response([show(row) for row in rows], wanted, total or 0)


def collection_response(items: list[dict[str, Any]], wanted: PageRequest, total: int) -> Response:
    total_pages = -(-total // wanted.per_page)
    links = {
        "self": _page_url(wanted.page, wanted.per_page),
        "next": _page_url(wanted.page + 1, wanted.per_page) if wanted.page < total_pages else None,
        "prev": _page_url(wanted.page - 1, wanted.per_page) if wanted.page > 1 else None,
    }
    response = jsonify(
        items=items,
        _meta={
            "page": wanted.page,
            "per_page": wanted.per_page,
            "total_pages": total_pages,
            "total_items": total,
        },
        _links=links,
    )
    link_header = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if rel != "self" and url
    )
    if link_header:
        response.headers["Link"] = link_header
    return response


def _page_url(page: int, per_page: int) -> str:
    args: dict[str, Any] = {**request.args, "page": page, "per_page": per_page}
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)
