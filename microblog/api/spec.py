"""Declarative API operations: one decorator states a route's authentication, request body,
query parameters, response type and errors; it validates and serializes with those same
Pydantic types, and the OpenAPI document is generated from them. So the documentation cannot
drift from what the code accepts and returns.

A view decorated with `operation` receives `body=` and `query=` already validated, and returns
its data (or a `Reply` with headers, or None for 204); the decorator serializes the data with
the declared response type, which also drops any field the type does not declare.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Response
from pydantic import BaseModel, TypeAdapter

from microblog.api.auth import basic_auth, current_user, token_auth
from microblog.api.idempotency import replay_or_run
from microblog.api.validation import parse_body, parse_query

Auth = Literal["bearer", "basic"] | None

# Runtime expressions for `Link` (OpenAPI 3.1, 4.8.20.4): what a client takes from one answer
# into its next request.
RESPONSE_ID = "$response.body#/id"


@dataclass(frozen=True)
class Link:
    """An OpenAPI link from an operation's success answer to an operation a client can call
    next with what it got back: `RESPONSE_ID` into a path parameter, or a field of the body.

    Declared on the operation (`operation(links=...)`) and checked when the document is built:
    the target is an `operationId` (the view's endpoint) and every name must be a parameter or
    body field of that target. Stateful tests follow the links from create to read, update and
    delete.
    """

    name: str
    operation_id: str
    # Target parameter name -> runtime expression.
    parameters: Mapping[str, str] = field(default_factory=dict)
    # Target body field -> runtime expression (the rest of the body is the client's).
    body: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """Data to serialize, with the status and headers to send it with."""

    data: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The other person the data shows (a message's recipient): an idempotent retry's stored
    # copy of this answer goes when their account does.
    subject_id: int | None = None


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view."""

    summary: str
    description: str
    tag: str
    auth: Auth
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    errors: tuple[int, ...]
    headers: tuple[str, ...]
    conditional: bool
    idempotent: bool
    links: tuple[Link, ...] = ()


@functools.cache
def adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def serialize(kind: Any, data: Any) -> bytes:
    return adapter(kind).dump_json(data)


def json_response(kind: Any, data: Any, status: int = 200) -> Response:
    return Response(serialize(kind, data), status=status, mimetype="application/json")


def operation(
    *,
    tag: str,
    response: Any = None,
    status: int = 200,
    auth: Auth = "bearer",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    headers: tuple[str, ...] = (),
    conditional: bool = False,
    idempotent: bool = False,
    links: tuple[Link, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare, validate and serialize one API operation (see the module docstring)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        doc = inspect.cleandoc(view.__doc__ or view.__name__)
        summary, _, description = doc.partition("\n")

        @functools.wraps(view)
        def run(**kwargs: Any) -> Response:
            if idempotent:
                return replay_or_run(current_user().id, lambda: respond(kwargs))
            return respond(kwargs)[0]

        def respond(kwargs: dict[str, Any]) -> tuple[Response, int | None]:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            result = view(**kwargs)
            reply = result if isinstance(result, Reply) else Reply(result)
            if response is None:
                answer = Response(status=reply.status or 204)
            else:
                answer = json_response(response, reply.data, reply.status or status)
            answer.headers.update(reply.headers)
            return answer, reply.subject_id

        wrapped: Callable[..., Response] = run
        if auth == "bearer":
            wrapped = token_auth.login_required(run)
        elif auth == "basic":
            wrapped = basic_auth.login_required(run)
        wrapped.__operation__ = Operation(  # type: ignore[attr-defined]
            summary=summary.strip().rstrip("."),
            description=description.strip(),
            tag=tag,
            auth=auth,
            status=status if response is not None else 204,
            body=body,
            query=query,
            response=response,
            errors=errors,
            headers=headers,
            conditional=conditional,
            idempotent=idempotent,
            links=links,
        )
        return wrapped

    return decorate
