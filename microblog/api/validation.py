"""Reading a JSON request body into a schema model, with a precise error for each way it fails."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from flask import request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)


def read_json_object() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType(
            "the request body must be JSON, sent with Content-Type: application/json"
        )
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def parse_body(model: type[M]) -> M:
    """The request body validated by `model`; unknown fields are ignored, never applied."""
    return model.model_validate(read_json_object())


def parse_query(model: type[M]) -> M:
    """The query string validated by `model` (unknown parameters are ignored)."""
    return model.model_validate(request.args.to_dict())
