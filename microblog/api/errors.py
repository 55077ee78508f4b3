"""Domain errors and validation failures, turned into the API's JSON errors in one place."""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import ValidationError

from microblog.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unauthenticated,
)
from microblog.http_errors import error_response

STATUS_OF: dict[type[DomainError], int] = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
}


def handle_domain_error(exc: DomainError) -> Response:
    status = next((code for kind, code in STATUS_OF.items() if isinstance(exc, kind)), 400)
    return error_response(status, exc.message)


# Pydantic's names for JSON types, as a client author would say them.
JSON_TYPES = {
    "int": "an integer",
    "float": "a number",
    "string": "a string",
    "str": "a string",
    "bool": "a boolean",
    "dict": "an object",
    "model": "an object",
    "list": "an array",
}


def describe_validation_error(exc: ValidationError) -> str:
    """One sentence naming the first field that is wrong, in words a client author can act on."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    kind = error["type"]
    if kind == "missing":
        return f"{field} is required"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = kind.removesuffix("_type").removesuffix("_parsing")
        return f"{field} must be {JSON_TYPES.get(expected, f'a {expected}')}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{field}: {message}"


def handle_validation_error(exc: ValidationError) -> Response:
    return error_response(400, describe_validation_error(exc))


def init_blueprint(bp: Blueprint) -> None:
    bp.register_error_handler(DomainError, handle_domain_error)
    bp.register_error_handler(ValidationError, handle_validation_error)
