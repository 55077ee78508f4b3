"""Newest-first lists of the site: one page of rows and the link to the older ones.

Pages go by id (`?max_id=`) rather than by page number, so the thousandth page costs what the
first does and a post written meanwhile does not shift everything by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import request
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from microblog.db import MAX_ID, newest_rows
from microblog.extensions import db

T = TypeVar("T")
PER_PAGE = 20


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    older: int | None  # the max_id of the next (older) page, if there is one


def newest_first(query: Select[T], id_column: InstrumentedAttribute[int]) -> Page[T]:
    raw = request.args.get("max_id", "")
    max_id = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 10 else None
    page = query if max_id is None else query.where(id_column < min(max_id, MAX_ID + 1))
    rows = newest_rows(db.session, query, page.limit(PER_PAGE + 1), id_column)
    older = getattr(rows[PER_PAGE - 1], "id", None) if len(rows) > PER_PAGE else None
    return Page(rows[:PER_PAGE], older)
