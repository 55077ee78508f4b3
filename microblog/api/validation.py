"""Reading a JSON request body or a query string into a schema model, with a precise error for
each way it fails."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import orjson
from flask import request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)

# Bodies are flat objects. orjson reads 1024 levels; past this many a body is refused, so what
# reads it after orjson (the walks and the parser below) never meets more.
MAX_DEPTH = 32


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object: UTF-8, strict JSON (orjson's: no NaN, no lone
    surrogates), at most `MAX_DEPTH` levels deep, and no key given twice in one object."""
    if not request.is_json:
        raise UnsupportedMediaType(
            "the request body must be JSON, sent with Content-Type: application/json"
        )
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(_why_not_json(raw, exc)) from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    # Fewer brackets than levels allowed (any body the API expects): no need to look.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise BadRequest(f"the request body is JSON nested deeper than {MAX_DEPTH} levels")
    _reject_duplicate_keys(raw, data)
    return data


def _why_not_json(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    """Only on the error path: say plainly what orjson's message says obliquely."""
    if not raw.strip():
        return "the request body is empty: send a JSON object"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return (
            f"the request body is not valid JSON: it is not UTF-8 "
            f"(byte 0x{raw[bad.start]:02x} at position {bad.start})"
        )
    return f"the request body is not valid JSON: {exc}"


def _reject_duplicate_keys(raw: bytes, data: dict[str, Any]) -> None:
    """Refuse `{"body": "a", "body": "b"}`: parsers disagree on which one wins (orjson keeps
    the last, others the first), so a proxy or a log could see another request than we do.

    orjson cannot tell. In JSON text every key is followed by a colon, so a flat body with no
    colon inside its strings (the usual one) holds exactly as many colons as keys: one
    `bytes.count` clears it. Any other body is parsed again by the standard library, which
    shows every pair (a few microseconds for a body of a few hundred bytes).
    """
    if raw.count(b":") != len(data):
        json.loads(raw, object_pairs_hook=_unique_keys)


def _depth(data: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadRequest(f"the request body gives the key {key!r} more than once")
            seen.add(key)
    return result


def parse_body(model: type[M]) -> M:
    """The request body validated by `model`; unknown fields are ignored, never applied."""
    return model.model_validate(read_json_object())


def parse_query(model: type[M]) -> M:
    """The query string validated by `model` (unknown parameters are ignored).

    A known parameter given twice (`?page=1&page=2`) is refused rather than one of them picked:
    the links the API builds keep the first, a proxy might keep the last."""
    args = request.args
    for name in model.model_fields:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"the query parameter {name} is given more than once")
    return model.model_validate(args.to_dict())
