"""The OpenAPI document generated from the routes, and the docs page that shows it.

None of this needs a database: the app is built on an empty SQLite file it never reads.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from microblog.api.openapi import DOCS_BLUEPRINT, DocumentError, build_document, openapi_document
from microblog.api.spec import RESPONSE_ID, Link, Operation
from tests.support import make_app

METHODS = ("get", "put", "post", "delete", "patch")
SECURITY: dict[str | None, list[dict[str, list[str]]]] = {
    "bearer": [{"bearerAuth": []}],
    "basic": [{"basicAuth": []}],
    None: [],
}


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}")
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def document(docs_app: Flask) -> dict[str, Any]:
    return openapi_document(docs_app)


@pytest.fixture
def docs_client(docs_app: Flask) -> FlaskClient:
    return docs_app.test_client()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _api_rules(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(method, OpenAPI path, endpoint) of every route under /api but the docs' own."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.endpoint.startswith(DOCS_BLUEPRINT + "."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method.lower(), path, rule.endpoint


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# --- the document as a whole -----------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1.")


def test_info_names_the_api_and_explains_how_to_use_it(document: dict[str, Any]) -> None:
    info = document["info"]
    assert info["title"] == "Microblog API"
    assert info["version"] == version("microblog")
    for topic in (
        "Authorization: Bearer",
        "POST /api/tokens",
        "per_page",
        "max_id",
        "since_id",
        "min_id",
        "_links.next",
        "If-None-Match",
        "If-Match",
        "Idempotency-Key",
    ):
        assert topic in info["description"], topic


def test_the_document_is_built_once_per_app(docs_app: Flask) -> None:
    assert openapi_document(docs_app) is openapi_document(docs_app)


def test_security_schemes_are_bearer_and_basic(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}


def test_schemas_use_standard_keywords_only(document: dict[str, Any]) -> None:
    """Pydantic leaves `ge`/`le` in its own words behind a validator; the document must not."""
    for node in _walk(document):
        if node.get("type") in ("integer", "number", "string"):
            assert not {"ge", "le", "gt", "lt"} & node.keys(), node


# --- every route, and nothing but the routes ----------------------------------------------


def test_every_api_route_is_an_operation_of_the_document(
    docs_app: Flask, document: dict[str, Any]
) -> None:
    routes = {(method, path): endpoint for method, path, endpoint in _api_rules(docs_app)}
    documented = {
        (method, path): operation["operationId"]
        for path, method, operation in _operations(document)
    }
    assert routes, "no routes under /api?"
    assert documented == routes


def test_every_api_view_declares_its_operation(docs_app: Flask) -> None:
    for _method, _path, endpoint in _api_rules(docs_app):
        view = docs_app.view_functions[endpoint]
        assert isinstance(getattr(view, "__operation__", None), Operation), endpoint


def test_a_view_without_an_operation_fails_the_build(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}")
    # As a blueprint nested in the API's would register it, without the `operation` decorator.
    app.add_url_rule("/api/rogue", "api.rogue.rogue", lambda: {})

    with pytest.raises(DocumentError, match=r"api\.rogue\.rogue"):
        build_document(app)


def test_the_docs_routes_are_not_operations(document: dict[str, Any]) -> None:
    assert "/api/openapi.json" not in document["paths"]
    assert "/api/docs" not in document["paths"]
    assert not [p for p in document["paths"] if p.startswith("/api/docs")]


def test_path_variables_are_typed_path_parameters(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/users/{user_id}"]["get"]
    assert {
        "name": "user_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    } in operation["parameters"]
    task = document["paths"]["/api/tasks/{task_id}"]["get"]
    assert task["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    for path, _method, operation in _operations(document):
        named = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        assert named == set(re.findall(r"{(\w+)}", path)), path


# --- each operation ------------------------------------------------------------------------


def test_every_operation_has_a_summary_a_tag_and_responses(document: dict[str, Any]) -> None:
    tags = {tag["name"] for tag in document["tags"]}
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        assert operation["summary"].strip(), where
        assert operation["operationId"].startswith("api."), where
        assert operation["tags"] and set(operation["tags"]) <= tags, where
        assert any(status.startswith("2") for status in operation["responses"]), where


def test_every_operation_has_the_security_its_view_requires(
    docs_app: Flask, document: dict[str, Any]
) -> None:
    for path, method, operation in _operations(document):
        view: Any = docs_app.view_functions[operation["operationId"]]
        declared: Operation = view.__operation__
        where = f"{method.upper()} {path}"
        assert operation["security"] == SECURITY[declared.auth], where
        if declared.auth:
            assert "401" in operation["responses"], where
        else:
            assert "401" not in operation["responses"], where


def test_registration_is_open_tokens_need_basic_everything_else_bearer(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    assert paths["/api/users"]["post"]["security"] == []
    assert paths["/api/tokens"]["post"]["security"] == [{"basicAuth": []}]
    assert paths["/api/tokens"]["delete"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/users"]["get"]["security"] == [{"bearerAuth": []}]


def test_every_error_is_the_shared_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert error["properties"]["error"]["type"] == "string"
    assert error["properties"]["message"]["type"] == "string"
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = _resolve(document, response)["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    f"{method.upper()} {path} {status}"
                )


def test_operations_with_a_body_or_query_document_their_failures(
    document: dict[str, Any],
) -> None:
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= operation["responses"].keys(), where
            assert operation["requestBody"]["required"] is True, where
        elif has_query:
            assert "400" in operation["responses"], where
        else:
            assert "413" not in operation["responses"], where


def test_every_get_has_an_etag_and_may_answer_304(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        if method != "get":
            continue
        where = f"GET {path}"
        names = [_resolve(document, p)["name"] for p in operation["parameters"]]
        assert "If-None-Match" in names, where
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        if "content" in success:
            assert "ETag" in success["headers"], where
            assert "304" in operation["responses"], where


def test_conditional_writes_take_if_match_and_may_answer_412(document: dict[str, Any]) -> None:
    for path in ("/api/users/{user_id}", "/api/posts/{post_id}"):
        operation = document["paths"][path]["put"]
        names = [_resolve(document, p)["name"] for p in operation["parameters"]]
        assert "If-Match" in names, path
        assert "412" in operation["responses"], path
    assert "412" not in document["paths"]["/api/posts"]["post"]["responses"]


def test_idempotent_creations_take_an_idempotency_key(document: dict[str, Any]) -> None:
    for path, status in (("/api/posts", "201"), ("/api/messages", "201"), ("/api/tasks", "202")):
        operation = document["paths"][path]["post"]
        names = [_resolve(document, p)["name"] for p in operation["parameters"]]
        assert "Idempotency-Key" in names, path
        assert "Idempotent-Replayed" in operation["responses"][status]["headers"], path
        # The same key on another route.
        assert "422" in operation["responses"], path
    users = document["paths"]["/api/users"]["post"]
    assert "Idempotency-Key" not in str(users.get("parameters", []))


def test_creations_answer_a_location(document: dict[str, Any]) -> None:
    for path in ("/api/users", "/api/posts", "/api/messages"):
        created = document["paths"][path]["post"]["responses"]["201"]
        assert "Location" in created["headers"], path


@dataclasses.dataclass(frozen=True)
class _Link:
    path: str
    method: str
    status: str
    name: str
    definition: dict[str, Any]
    answer: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.status} -> {self.name}"


def _links(document: dict[str, Any]) -> Iterator[_Link]:
    """Every link of every answer."""
    for path, method, operation in _operations(document):
        for status, answer in operation["responses"].items():
            for name, definition in answer.get("links", {}).items():
                yield _Link(path, method, status, name, definition, answer)


def _pointer_holds(document: dict[str, Any], schema: dict[str, Any], pointer: list[str]) -> bool:
    schema = _resolve(document, schema)
    if not pointer:
        return True
    if any(_pointer_holds(document, branch, pointer) for branch in schema.get("anyOf", ())):
        return True
    child = schema.get("properties", {}).get(pointer[0])
    return child is not None and _pointer_holds(document, child, pointer[1:])


def test_every_link_resolves_to_an_operation_and_its_parameters(
    document: dict[str, Any],
) -> None:
    """A link that names a missing operation, parameter or field sends clients (and the
    stateful fuzzing) nowhere, silently: each must be checkable from the document alone."""
    by_id = {operation["operationId"]: operation for _p, _m, operation in _operations(document)}
    links = list(_links(document))
    assert len(links) >= 20
    for link in links:
        definition = link.definition
        assert definition["operationId"] in by_id, link
        target = by_id[definition["operationId"]]
        accepted = {_resolve(document, p)["name"] for p in target.get("parameters", [])}
        assert set(definition.get("parameters", {})) <= accepted, link
        body = definition.get("requestBody", {})
        if body:
            schema = target["requestBody"]["content"]["application/json"]["schema"]
            assert set(body) <= set(_resolve(document, schema)["properties"]), link
        for expression in [*definition.get("parameters", {}).values(), *body.values()]:
            if expression.startswith("$response.body#/"):
                schema = link.answer["content"]["application/json"]["schema"]
                pointer = expression.removeprefix("$response.body#/").split("/")
                assert _pointer_holds(document, schema, pointer), f"{link}: {expression}"
            else:
                parameter = expression.removeprefix("$request.path.")
                assert "{" + parameter + "}" in link.path, f"{link}: {expression}"


def test_links_chain_creation_to_reading_changing_and_deleting(document: dict[str, Any]) -> None:
    """What the stateful fuzzing walks: every kind of thing created leads to its reading, and
    posts to their editing and deletion too."""

    def targets(path: str, method: str, status: str) -> set[str]:
        response = document["paths"][path][method]["responses"][status]
        return {link["operationId"] for link in response["links"].values()}

    assert {
        "api.users.get_one_user",
        "api.users.edit_user",
        "api.me.follow_user",
        "api.messages.send_message",
    } <= targets("/api/users", "post", "201")
    assert {"api.posts.get_post", "api.posts.edit_post", "api.posts.delete_post"} <= targets(
        "/api/posts", "post", "201"
    )
    assert "api.users.edit_user" in targets("/api/me", "get", "200")
    assert "api.messages.get_message" in targets("/api/messages", "post", "201")
    assert "api.tasks.get_one_task" in targets("/api/tasks", "post", "202")
    assert targets("/api/tokens", "post", "200") == {
        "api.tokens.delete_token",
        "api.tokens.list_tokens",
    }
    assert "api.users.list_followers" in targets("/api/me/following/{user_id}", "post", "204")
    created = document["paths"]["/api/users"]["post"]["responses"]["201"]["links"]
    assert created["GetUser"]["parameters"] == {"user_id": "$response.body#/id"}


@pytest.mark.parametrize(
    ("link", "complaint"),
    [
        (Link("Nowhere", "api.nowhere"), "no operation"),
        (Link("Typo", "api.users.get_one_user", {"userid": RESPONSE_ID}), "no parameter"),
        (Link("Body", "api.messages.send_message", body={"to": RESPONSE_ID}), "no body field"),
        (Link("Field", "api.users.get_one_user", {"user_id": "$response.body#/uid"}), "nothing"),
        (Link("Path", "api.users.get_one_user", {"user_id": "$request.path.id"}), "no path"),
        (Link("Junk", "api.users.get_one_user", {"user_id": "id"}), "not a runtime expression"),
    ],
    ids=lambda value: value.name if isinstance(value, Link) else None,
)
def test_a_link_to_nothing_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: Link, complaint: str
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}")
    # The view is the module's own function, shared by every app: patched for this test only.
    view: Any = app.view_functions["api.posts.create_post"]
    monkeypatch.setattr(
        view, "__operation__", dataclasses.replace(view.__operation__, links=(link,))
    )

    with pytest.raises(DocumentError, match=complaint):
        build_document(app)


def test_no_content_answers_have_no_body(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/tokens"]["delete"]["responses"]
    assert "204" in responses
    assert "content" not in responses["204"]


# --- spot checks of the schemas --------------------------------------------------------------


def test_user_registration_body_requires_username_email_password(
    document: dict[str, Any],
) -> None:
    body = document["paths"]["/api/users"]["post"]["requestBody"]
    schema = _resolve(document, body["content"]["application/json"]["schema"])
    assert set(schema["required"]) == {"username", "email", "password"}
    assert schema["properties"]["about_me"]["default"] == ""


def test_listing_users_takes_page_and_per_page(document: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p for p in document["paths"]["/api/users"]["get"]["parameters"] if "name" in p
    }
    assert parameters["page"]["in"] == "query"
    assert parameters["page"]["required"] is False
    assert parameters["page"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
        "default": 1,
    }
    assert parameters["per_page"]["schema"]["default"] == 10
    assert parameters["per_page"]["description"]


def test_timelines_take_keyset_parameters_without_null(document: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p for p in document["paths"]["/api/posts"]["get"]["parameters"] if "name" in p
    }
    for name in ("max_id", "since_id", "min_id"):
        schema = parameters[name]["schema"]
        assert schema["type"] == "integer", name
        assert schema["minimum"] == 1, name
        assert "anyOf" not in schema and "default" not in schema, name
        assert parameters[name]["description"], name


def test_a_post_has_links_and_its_author(document: dict[str, Any]) -> None:
    post = document["components"]["schemas"]["PostOut"]
    assert {"_links", "author", "id", "body", "timestamp"} <= set(post["required"])
    links = _resolve(document, post["properties"]["_links"])
    assert set(links["required"]) == {"self", "author"}
    assert post["properties"]["timestamp"]["format"] == "date-time"


def test_user_email_is_optional_in_a_user(document: dict[str, Any]) -> None:
    user = document["components"]["schemas"]["UserOut"]
    assert "email" in user["properties"]
    assert "email" not in user["required"]


def test_collections_have_items_meta_and_links(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    collections = [name for name in schemas if name.endswith("Collection")]
    assert {"UserOutCollection", "PostOutCollection", "MessageOutCollection"} <= set(collections)
    for name in collections:
        schema = schemas[name]
        assert set(schema["required"]) == {"items", "_meta", "_links"}, name
        assert schema["properties"]["items"]["type"] == "array", name
        item = schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
        assert name == f"{item}Collection"
    listing = document["paths"]["/api/users"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserOutCollection"
    }
    assert "Link" in listing["headers"]


def test_a_union_of_collections_is_any_of_them(document: dict[str, Any]) -> None:
    search = document["paths"]["/api/search"]["get"]["responses"]["200"]
    schema = search["content"]["application/json"]["schema"]
    branches = schema.get("anyOf") or schema.get("oneOf")
    assert {"$ref": "#/components/schemas/PostOutCollection"} in branches
    assert {"$ref": "#/components/schemas/UserOutCollection"} in branches


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for node in _walk(document):
        if "$ref" in node:
            assert _resolve(document, node), node["$ref"]


# --- the routes that serve it ----------------------------------------------------------------


def test_the_document_is_served_without_authentication(
    docs_client: FlaskClient, document: dict[str, Any]
) -> None:
    response = docs_client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == document
    assert response.headers["ETag"]


class _AssetUrls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_the_docs_page_is_html_loading_local_assets_only(docs_client: FlaskClient) -> None:
    response = docs_client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "/api/openapi.json" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    parser = _AssetUrls()
    parser.feed(html)
    assert len(parser.urls) >= 3
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        with docs_client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype != "application/json", url
            assert asset.data, url
    assert any(url.endswith(".js") for url in parser.urls)
    assert any(url.endswith(".css") for url in parser.urls)


def test_the_assets_are_served_with_their_own_types(docs_client: FlaskClient) -> None:
    for name, mimetype in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ):
        with docs_client.get(f"/api/docs/{name}") as asset:
            assert asset.status_code == 200
            assert asset.mimetype == mimetype
            assert asset.headers["ETag"]


@pytest.mark.parametrize(
    "path",
    ["/api/docs/no-such.js", "/api/docs/../openapi.py", "/api/docs/swagger-editor-bundle.js"],
)
def test_only_the_pages_assets_are_served_and_misses_are_json(
    docs_client: FlaskClient, path: str
) -> None:
    response = docs_client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert set(response.json or {}) == {"error", "message"}


def test_the_rest_of_the_api_still_answers_json(docs_client: FlaskClient) -> None:
    response = docs_client.get("/api/users")

    assert response.status_code == 401
    assert response.mimetype == "application/json"
