"""Collections: `items`, `_meta`, `_links` and an RFC 8288 Link header.

Two ways through a collection. Page numbers (`page`, `per_page`) for any ordering; and, for
time-ordered collections, keyset paging by id (`max_id`, `since_id`, `min_id`, as Mastodon
does it), where page 10,000 costs what page 1 costs. A timeline's `next` link is always in the
keyset form. Each page costs two statements whatever its size: the total and the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from microblog.api.schemas import NotificationsQuery, PageQuery, TimelineQuery
from microblog.api.spec import Reply
from microblog.db import newest_rows
from microblog.extensions import db

T = TypeVar("T")
# A select of anything: one model, or columns.
AnySelect = Select[*tuple[Any, ...]]
MAX_PER_PAGE = 100


def per_page(wanted: PageQuery | NotificationsQuery) -> int:
    return min(wanted.per_page, MAX_PER_PAGE)


def as_entities(query: AnySelect) -> Sequence[Any]:
    """The model instances a query of one model selects."""
    return db.session.scalars(query).all()


def as_rows(query: AnySelect) -> Sequence[Any]:
    """The rows a query of columns selects: no ORM objects built, for pages that only show."""
    return db.session.execute(query).all()


def paginate(
    query: AnySelect,
    wanted: PageQuery,
    show: Callable[[Any], dict[str, Any]],
    total: Callable[[], int] | None = None,
    *,
    fetch: Callable[[AnySelect], Sequence[Any]] = as_entities,
    ids_first: InstrumentedAttribute[int] | None = None,
) -> Reply:
    """The requested page of `query`, by page number; counted with `total` when a counter
    knows the answer, else with COUNT(*).

    With `ids_first` (the column `query` is ordered by), the page's ids are picked first, in
    a subquery, from that column's index alone: a deep page's OFFSET then skips index
    entries rather than table rows (page 900 of users: 0.9 ms instead of 4.2 ms).
    """
    size = per_page(wanted)
    if total is None:
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    else:
        count = total()
    page = query.limit(size).offset((wanted.page - 1) * size)
    if ids_first is not None:
        page = query.where(ids_first.in_(page.with_only_columns(ids_first)))
    found = fetch(page)
    pages = _page_count(count or 0, size)
    links = {
        "self": _url(page=wanted.page, per_page=size),
        "next": _url(page=wanted.page + 1, per_page=size) if wanted.page < pages else None,
        "prev": _url(page=wanted.page - 1, per_page=size) if wanted.page > 1 else None,
    }
    return collection([show(row) for row in found], wanted.page, size, count or 0, links)


def paginate_timeline(
    query: Select[T],
    wanted: TimelineQuery,
    show: Callable[[T], dict[str, Any]],
    id_column: InstrumentedAttribute[int],
    total: Callable[[], int],
    item_id: Callable[[T], int],
) -> Reply:
    """The requested slice of a newest-first `query`, by keyset or by page number (read with
    `newest_rows`: the slice's ids first, then its rows)."""
    size = per_page(wanted)
    keyset = (wanted.max_id, wanted.since_id, wanted.min_id) != (None, None, None)
    slice_ = query
    if not keyset:
        slice_ = slice_.offset((wanted.page - 1) * size)
    if wanted.max_id is not None:
        slice_ = slice_.where(id_column < wanted.max_id)
    if wanted.since_id is not None:
        slice_ = slice_.where(id_column > wanted.since_id)
    if wanted.min_id is not None:
        # The items right after min_id: read upwards from it (then shown newest first).
        slice_ = slice_.where(id_column > wanted.min_id).order_by(None).order_by(id_column.asc())
    rows: list[T] = newest_rows(db.session, query, slice_.limit(size), id_column)
    count = total()
    links = {
        "self": request.full_path.rstrip("?"),
        "next": _url(max_id=item_id(rows[-1]), per_page=size) if len(rows) == size else None,
        "prev": _url(min_id=item_id(rows[0]), per_page=size)
        if rows and _has_newer(wanted)
        else None,
    }
    page = None if keyset else wanted.page
    return collection([show(row) for row in rows], page, size, count, links)


def _has_newer(wanted: TimelineQuery) -> bool:
    """Whether items newer than this page may exist (not on the first page of the timeline)."""
    return wanted.max_id is not None or wanted.min_id is not None or wanted.page > 1


def collection(
    items: list[dict[str, Any]],
    page: int | None,
    size: int,
    total: int,
    links: dict[str, str | None],
) -> Reply:
    """The collection representation, with next/prev also in an RFC 8288 Link header."""
    link_header = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if rel != "self" and url
    )
    data = {
        "items": items,
        "_meta": {
            "page": page,
            "per_page": size,
            "total_pages": _page_count(total, size),
            "total_items": total,
        },
        "_links": links,
    }
    return Reply(data, headers={"Link": link_header} if link_header else {})


def _page_count(total: int, size: int) -> int:
    return -(-total // size)


def _url(**args: Any) -> str:
    keep: dict[str, Any] = {
        name: value
        for name, value in request.args.items()
        if name not in ("page", "per_page", "max_id", "since_id", "min_id")
    }
    return url_for(request.endpoint or "", **(request.view_args or {}), **keep, **args)
