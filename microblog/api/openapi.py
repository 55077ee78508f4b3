"""The OpenAPI 3.1 document, generated from the routes themselves: nothing here is written by
hand about a particular route. Each API view carries the `Operation` its `operation` decorator
declared; this module walks the URL map, reads those, and turns their Pydantic types into JSON
Schemas, so the document says exactly what the code accepts and returns.

A view under the API blueprint without an `Operation` is a bug, and building the document
fails on it (the tests build it). Only the documentation's own routes are left out.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Rule

from microblog.api.ratelimits import LIMIT_HEADERS
from microblog.api.schemas import Collection, ErrorOut
from microblog.api.spec import Link, Operation

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
API_BLUEPRINT = "api"
# The documentation's own routes (the JSON document and the page that shows it).
DOCS_BLUEPRINT = "api.docs"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
EXTENSION_KEY = "microblog.openapi"

DESCRIPTION = """\
The JSON API of Microblog. Every request and response body is JSON, errors included:
`{"error": "<HTTP reason>", "message": "<what went wrong>"}`.

## Authentication

Register with `POST /api/users` (no authentication). Exchange your username (or email
address) and password, sent with HTTP Basic, for a bearer token at `POST /api/tokens`; the
token lives one hour. Send it as `Authorization: Bearer <token>` with every other request, and
revoke it with `DELETE /api/tokens`. A missing, wrong, expired or revoked credential answers
`401` with a `WWW-Authenticate` header.

## Pagination

Collections answer `{"items": [...], "_meta": {...}, "_links": {"self", "next", "prev"}}`, and
the same `next`/`prev` links come in an RFC 8288 `Link` header. Page with `page` (from 1) and
`per_page` (at most 100; larger values are capped). Timelines (posts, the feed, messages) are
also paged by id, newest first, as Mastodon does it: `max_id` (items older than this id),
`since_id` (the newest items newer than this id) and `min_id` (the items right after this id).
A timeline's `_links.next` is always in this keyset form, so following it never skips or
repeats an item while new ones arrive.

## Conditional requests

Every `GET` answers an `ETag` (a hash of the exact JSON sent) with `Cache-Control: private,
no-cache`; send it back in `If-None-Match` to get `304 Not Modified` while nothing changed.
Writes that can conflict (`PUT`) accept `If-Match` and answer `412 Precondition Failed` if the
resource changed since you read it.

## Idempotency keys

`POST` operations that create something accept an `Idempotency-Key` header (1 to 255 printable
characters, unique per request you mean). A retry with the same key within 24 hours answers the
first response again, with `Idempotent-Replayed: true`, and creates nothing; the same key on
another route answers `422`. A request that failed may be retried with the same key.

## Links

Answers that create or change something carry OpenAPI `links` to what you can do next with
them: a new user's id leads to reading, following and messaging them; a new post's to reading,
editing and deleting it; a started task's to polling it.

## Rate limits

Each bearer token has a budget of requests per time window (requests without a token are
counted per client address, as are requests whose credentials are refused); `POST /api/tokens`
is limited per client address and per username tried, and sign-ups per client address. Answers
carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window
resets). Past a limit the answer is `429 Too Many Requests` with `Retry-After` (seconds).
"""

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `POST /api/tokens`, valid for one hour.",
    },
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Your username (or email address) and password; only to get a token.",
    },
}
SECURITY_OF = {"bearer": "bearerAuth", "basic": "basicAuth"}

_STRING = {"type": "string"}
_COUNT = {"type": "integer", "minimum": 0}
HEADERS = {
    "Location": {"description": "The URL of the resource created.", "schema": _STRING},
    "Link": {
        "description": 'RFC 8288 links to the `next` and `prev` pages (`<url>; rel="next"`).',
        "schema": _STRING,
    },
    "ETag": {"description": "A hash of the JSON sent; see `If-None-Match`.", "schema": _STRING},
    "Cache-Control": {"description": "`private, no-cache`", "schema": _STRING},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request that had "
        "the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWW-Authenticate": {"description": "The scheme to authenticate with.", "schema": _STRING},
    "RateLimit-Limit": {
        "description": "Requests allowed in the current window of a rate limit that applies.",
        "schema": _COUNT,
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window of that limit.",
        "schema": _COUNT,
    },
    "RateLimit-Reset": {
        "description": "Seconds until that limit's window resets.",
        "schema": _COUNT,
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": _COUNT},
}
# Sent with every answer while rate limits are on (see "Rate limits" above).
HEADER_PARAMETERS = {
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags you hold: `304 Not Modified` (no body) if one is current.",
        "schema": _STRING,
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag you read: the change is refused with `412` if the resource "
        "changed since.",
        "schema": _STRING,
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes retries safe: a retry with the same key within 24 hours answers "
        "the first response and changes nothing.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
}
# Why each error status may happen, said once for every operation that can answer it.
ERROR_REASONS = {
    400: "A parameter or the body is invalid; `message` names the field.",
    401: "Missing, wrong, expired or revoked credentials.",
    403: "The resource is not yours.",
    404: "No such resource.",
    409: "The request clashes with the resource's current state.",
    410: "The resource is kept no longer (an export's result, after EXPORT_RESULT_TTL).",
    412: "`If-Match` does not match the resource's current ETag.",
    413: "The body is larger than the server accepts.",
    415: "The body is not `application/json`.",
    422: "The request cannot be carried out as sent (for instance, an `Idempotency-Key` "
    "already used on another route).",
    429: "A rate limit is spent; `Retry-After` says how many seconds until it resets.",
}
# Path converters, as werkzeug matches them.
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "float": {"type": "number", "minimum": 0},
    "default": {"type": "string", "pattern": "^[^/]+$"},
    "string": {"type": "string", "pattern": "^[^/]+$"},
    "path": {"type": "string"},
}
_RULE_VARIABLE = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_]\w*)(?:\((?P<args>.*?)\))?:)?(?P<name>[a-zA-Z_]\w*)>"
)
_GENERIC_NAME = re.compile(r"^(?P<origin>\w+)\[(?P<args>.+)\]$")
# Besides `$response.body#/<pointer>`, links may use a path parameter of the request.
_REQUEST_PATH = re.compile(r"^\$request\.path\.(?P<name>[a-zA-Z_]\w*)$")
# JSON Schema spellings of the constraints Pydantic leaves in its own words when a validator
# stands between them and the type (as `PositiveInt`'s digits-only check does).
_CONSTRAINT_KEYWORDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "min_length": "minLength",
    "max_length": "maxLength",
}


class DocumentError(RuntimeError):
    """The routes cannot be documented as they stand (a view without an `Operation`, ...)."""


class _ComponentNames(GenerateJsonSchema):
    """Readable, stable component names: `Collection[PostOut]` is `PostOutCollection`, and the
    error shape every operation shares is `Error`."""

    def normalize_name(self, name: str) -> str:
        if name == "ErrorOut":
            return "Error"
        generic = _GENERIC_NAME.match(name)
        if generic:
            args = [self.normalize_name(arg.strip()) for arg in _split_args(generic["args"])]
            return "".join(args) + generic["origin"]
        return super().normalize_name(name)


def _split_args(args: str) -> list[str]:
    """`A, B[C, D]` as `["A", "B[C, D]"]`: commas inside brackets belong to the argument."""
    parts: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(args):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(args[start:index])
            start = index + 1
    parts.append(args[start:])
    return parts


@dataclass(frozen=True)
class _Route:
    path: str
    method: str
    endpoint: str
    rule: Rule
    operation: Operation
    module_doc: str


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document for `app`, built on first use and kept for the app's lifetime."""
    document: dict[str, Any] | None = app.extensions.get(EXTENSION_KEY)
    if document is None:
        document = build_document(app)
        app.extensions[EXTENSION_KEY] = document
    return document


def build_document(app: Flask) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    routes = list(_api_routes(app))
    # Links name their target by operationId, which is the endpoint.
    by_id = {route.endpoint: route for route in routes}
    # In the order the routes were registered: tags and paths appear as the API is laid out.
    for route in routes:
        tags.setdefault(route.operation.tag, route.module_doc)
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas, by_id)
    for path, item in paths.items():
        paths[path] = dict(sorted(item.items(), key=_method_order))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Microblog API",
            "version": _package_version(),
            "description": DESCRIPTION,
        },
        "tags": [{"name": name, "description": doc} for name, doc in tags.items()],
        "paths": paths,
        "components": {
            "schemas": schemas.resolve(),
            "securitySchemes": SECURITY_SCHEMES,
            "parameters": HEADER_PARAMETERS,
            "headers": HEADERS,
            "responses": _error_responses(),
        },
    }


def _package_version() -> str:
    try:
        return version("microblog")
    except PackageNotFoundError:  # pragma: no cover - running from a tree never installed
        return "0.0.0"


def _api_routes(app: Flask) -> Iterator[_Route]:
    prefix = API_BLUEPRINT + "."
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if not endpoint.startswith(prefix) or endpoint.startswith(DOCS_BLUEPRINT + "."):
            continue
        view = app.view_functions[endpoint]
        operation = getattr(view, "__operation__", None)
        if not isinstance(operation, Operation):
            raise DocumentError(
                f"{endpoint} ({rule.rule}) has no `operation` declaration, so it cannot be "
                "documented; decorate it with microblog.api.spec.operation"
            )
        module = sys.modules.get(view.__module__)
        module_doc = ((module.__doc__ if module else None) or "").strip().split("\n\n")[0]
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            yield _Route(
                _openapi_path(rule.rule),
                method,
                endpoint,
                rule,
                operation,
                " ".join(module_doc.split()),
            )


def _method_order(item: tuple[str, Any]) -> int:
    method = item[0].upper()
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def _openapi_path(rule: str) -> str:
    return _RULE_VARIABLE.sub(lambda match: "{" + match["name"] + "}", rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    parameters = []
    for match in _RULE_VARIABLE.finditer(rule):
        converter = match["converter"] or "default"
        schema = CONVERTER_SCHEMAS.get(converter)
        if schema is None:
            raise DocumentError(f"no schema for the path converter {converter!r} in {rule}")
        schema = dict(schema)
        if converter == "int" and "signed=True" in (match["args"] or ""):
            schema.pop("minimum")
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return parameters


def _operation(route: _Route, schemas: _Schemas, by_id: dict[str, _Route]) -> dict[str, Any]:
    op = route.operation
    is_get = route.method == "GET"
    parameters = _path_parameters(route.rule.rule)
    if op.query is not None:
        parameters += _query_parameters(op.query, schemas)
    if is_get:
        parameters.append({"$ref": "#/components/parameters/IfNoneMatch"})
    if op.conditional:
        parameters.append({"$ref": "#/components/parameters/IfMatch"})
    if op.idempotent:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})

    document: dict[str, Any] = {
        "operationId": route.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{SECURITY_OF[op.auth]: []}] if op.auth else [],
    }
    if op.description:
        document["description"] = op.description
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.add(op.body, "validation")}},
        }
    document["responses"] = _responses(route, schemas)
    if op.links:
        success = document["responses"][str(op.status)]
        success["links"] = {link.name: _link(route, link, by_id) for link in op.links}
    return document


def _link(source: _Route, link: Link, by_id: dict[str, _Route]) -> dict[str, Any]:
    """An OpenAPI Link object, once its target and every name in it are known to exist: a
    link that points nowhere would send clients (and the stateful tests) astray silently."""
    where = f"{source.endpoint}'s link {link.name!r}"
    target = by_id.get(link.operation_id)
    if target is None:
        raise DocumentError(f"{where} targets {link.operation_id!r}, which is no operation")
    accepted = set(target.rule.arguments) | _field_names(target.operation.query)
    unknown = set(link.parameters) - accepted
    if unknown:
        raise DocumentError(f"{where}: {link.operation_id} has no parameter {sorted(unknown)}")
    unknown = set(link.body) - _field_names(target.operation.body)
    if unknown:
        raise DocumentError(f"{where}: {link.operation_id} has no body field {sorted(unknown)}")
    for expression in (*link.parameters.values(), *link.body.values()):
        _check_expression(source, expression, where)
    document: dict[str, Any] = {"operationId": link.operation_id}
    if link.parameters:
        document["parameters"] = dict(link.parameters)
    if link.body:
        document["requestBody"] = dict(link.body)
    if link.description:
        document["description"] = link.description
    return document


def _check_expression(source: _Route, expression: str, where: str) -> None:
    if expression.startswith("$response.body#/"):
        pointer = expression.removeprefix("$response.body#/").split("/")
        response = source.operation.response
        if response is None or not _has_pointer(TypeAdapter(response).json_schema(), pointer):
            raise DocumentError(f"{where}: the answer has nothing at {expression!r}")
        return
    path = _REQUEST_PATH.match(expression)
    if path is not None:
        if path["name"] not in source.rule.arguments:
            raise DocumentError(f"{where}: the request has no path parameter {path['name']!r}")
        return
    raise DocumentError(f"{where}: {expression!r} is not a runtime expression known here")


def _has_pointer(schema: dict[str, Any], pointer: list[str]) -> bool:
    """Whether an object this JSON Schema allows can have a value at `pointer` (a path of
    property names, through `$ref`s and the branches of `anyOf`)."""
    definitions = schema.get("$defs", {})

    def holds(node: dict[str, Any], path: list[str]) -> bool:
        if "$ref" in node:
            node = definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
        if not path:
            return True
        if any(holds(branch, path) for branch in node.get("anyOf", ())):
            return True
        child = node.get("properties", {}).get(path[0])
        return child is not None and holds(child, path[1:])

    return holds(schema, pointer)


def _field_names(model: type[BaseModel] | None) -> set[str]:
    """The names a model's fields go by in JSON."""
    if model is None:
        return set()
    return {field.alias or name for name, field in model.model_fields.items()}


def _query_parameters(model: type[BaseModel], schemas: _Schemas) -> list[dict[str, Any]]:
    schema = model.model_json_schema(
        mode="validation", ref_template=REF_TEMPLATE, schema_generator=_ComponentNames
    )
    schemas.merge(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        field_schema = _optional_value(field_schema)
        description = field_schema.pop("description", None)
        field_schema.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _standard_keywords(field_schema),
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _optional_value(schema: dict[str, Any]) -> dict[str, Any]:
    """A query field's schema without its `None` default: an absent parameter is None, and a
    query string cannot say null."""
    schema = dict(schema)
    branches = schema.get("anyOf")
    if branches is not None:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) != len(branches):
            schema.pop("anyOf")
            if schema.get("default", ...) is None:
                schema.pop("default")
            if len(kept) == 1:
                description = schema.pop("description", None)
                schema = {**kept[0], **schema}
                if description and "description" not in schema:
                    schema["description"] = description
            else:
                schema["anyOf"] = kept
    return schema


def _responses(route: _Route, schemas: _Schemas) -> dict[str, Any]:
    op = route.operation
    is_get = route.method == "GET"
    success: dict[str, Any] = {"description": _reason(op.status)}
    headers: dict[str, Any] = {}
    for name in op.headers:
        if name not in HEADERS:
            raise DocumentError(f"{route.endpoint} declares the header {name!r}, unknown here")
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    if _is_collection(op.response):
        headers["Link"] = {"$ref": "#/components/headers/Link"}
    if is_get and op.response is not None:
        headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        headers["Cache-Control"] = {"$ref": "#/components/headers/Cache-Control"}
    if op.idempotent:
        headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}
    for name in LIMIT_HEADERS:
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    if headers:
        success["headers"] = headers
    if op.response is not None:
        success["content"] = {
            "application/json": {"schema": schemas.add(op.response, "serialization")}
        }

    responses: dict[str, Any] = {str(op.status): success}
    if is_get and op.response is not None:
        responses["304"] = {
            "description": "Not Modified: `If-None-Match` holds the current ETag.",
            "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
        }
    for status in sorted(_error_statuses(route)):
        responses[str(status)] = {"$ref": f"#/components/responses/{_response_name(status)}"}
    return responses


def _error_statuses(route: _Route) -> set[int]:
    """The errors the operation declares, and those its machinery adds whatever it declares."""
    op = route.operation
    # Every operation is rate limited.
    statuses = set(op.errors) | {429}
    if op.auth:
        statuses.add(401)
    if op.body is not None or op.query is not None:
        statuses.add(400)
    if op.body is not None:
        statuses |= {413, 415}
    if op.conditional:
        statuses.add(412)
    if op.idempotent:
        # A malformed key, or a key already used on another route.
        statuses |= {400, 422}
    if route.rule.arguments:
        # No such resource, or a value the path's converter does not match.
        statuses.add(404)
    return statuses


def _is_collection(kind: Any) -> bool:
    if typing.get_origin(kind) is Collection:
        return True
    if typing.get_origin(kind) is typing.Annotated:
        return _is_collection(typing.get_args(kind)[0])
    return any(_is_collection(arg) for arg in typing.get_args(kind))


def _reason(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Success")


def _response_name(status: int) -> str:
    return re.sub(r"[^A-Za-z]", "", _reason(status).title())


def _error_responses() -> dict[str, Any]:
    responses = {}
    for status, why in ERROR_REASONS.items():
        response: dict[str, Any] = {
            "description": f"{_reason(status)}: {why}",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}
            }
        if status == 429:
            response["headers"] = {
                name: {"$ref": f"#/components/headers/{name}"}
                for name in ("Retry-After", *LIMIT_HEADERS)
            }
        responses[_response_name(status)] = response
    return responses


class _Schemas:
    """Collects the types the operations use, then generates all their schemas in one pass, so
    each component has one name wherever it is used."""

    def __init__(self) -> None:
        self._types: list[tuple[int, JsonSchemaMode, TypeAdapter[Any]]] = []
        self._placeholders: dict[int, dict[str, Any]] = {}
        self._extra: dict[str, Any] = {}
        self.add(ErrorOut, "serialization")

    def add(self, kind: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        """A schema for `kind` (filled in by `resolve`)."""
        key = len(self._types)
        self._types.append((key, mode, TypeAdapter(kind)))
        placeholder: dict[str, Any] = {}
        self._placeholders[key] = placeholder
        return placeholder

    def merge(self, definitions: dict[str, Any]) -> None:
        self._extra.update(definitions)

    def resolve(self) -> dict[str, Any]:
        """Fill every placeholder and answer the component schemas."""
        generated, definitions = TypeAdapter.json_schemas(
            self._types, ref_template=REF_TEMPLATE, schema_generator=_ComponentNames
        )
        for (key, _mode), schema in generated.items():
            self._placeholders[key].update(_standard_keywords(schema))
        components = {**self._extra, **definitions.get("$defs", {})}
        # Titled by component name: `PostOutCollection`, not the generic's own `Collection`.
        return {
            name: {**_standard_keywords(components[name]), "title": name}
            for name in sorted(components)
        }


def _standard_keywords(schema: Any) -> Any:
    """`schema` in standard JSON Schema: constraint names Pydantic left in its own words are
    translated, and a `oneOf` with no discriminator (Pydantic's tagged unions, decided by code
    the document cannot show) becomes `anyOf`, since its branches may overlap (an empty page of
    posts is also an empty page of users)."""
    if isinstance(schema, list):
        return [_standard_keywords(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "patternProperties"):
            result[key] = {name: _standard_keywords(item) for name, item in value.items()}
            continue
        standard = _CONSTRAINT_KEYWORDS.get(key) if _is_schema_with_type(schema) else None
        if standard is not None and standard not in schema:
            result[standard] = value
        elif key == "oneOf" and "discriminator" not in schema:
            result["anyOf"] = _standard_keywords(value)
        else:
            result[key] = _standard_keywords(value)
    return result


def _is_schema_with_type(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("integer", "number", "string", "array")
