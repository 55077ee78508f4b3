"""The table of bad requests for test_bad_input.py: every write route and every query parameter
of the API, each sent something a client should never send.

A case is a request (method, path, raw body bytes, headers) and what it must answer: a status
and the words its JSON error message must contain, the field or the problem at fault. Paths
name the seeded world's ids as `{susan}`, `{bob}`, `{carol}`, `{post}` (susan's), `{bob_post}`,
`{bob_token}` (in bodies as `id_of("bob")`); requests are made as susan unless `as_user` says
otherwise. In the world susan follows bob, and bob has sent susan a message she has not read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from _pytest.mark import ParameterSet

JSON = "application/json"
INT32 = 2**31
INT64 = 2**63
MIB = 1024 * 1024
# Over the app's header line limit (16 KiB, microblog/http_errors.py), under gunicorn's (32 KiB).
HUGE_HEADER = "h" * 20_000


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    words: tuple[str, ...]
    body: bytes | None = None
    content_type: str | None = None
    as_user: str | None = "susan"
    headers: dict[str, str] = field(default_factory=dict)


def bad(
    case_id: str,
    route: str,
    status: int,
    *words: str,
    body: bytes | None = None,
    json: Any = None,
    content_type: str | None = None,
    as_user: str | None = "susan",
    headers: dict[str, str] | None = None,
) -> ParameterSet:
    """One row; `route` is "METHOD /path?query". `json` is serialized (orjson: non-ASCII stays
    raw UTF-8), `body` sent as is; either goes as application/json unless `content_type` says
    otherwise."""
    method, path = route.split(" ", 1)
    if json is not None:
        body = orjson.dumps(json)
    if body is not None and content_type is None:
        content_type = JSON
    case = Case(method, path, status, words, body, content_type, as_user, headers or {})
    return pytest.param(case, id=case_id)


def nested(depth: int) -> bytes:
    """Arrays in arrays, `depth` deep."""
    return b"[" * depth + b"]" * depth


def id_of(name: str) -> str:
    """A seeded id inside a JSON body: the JSON string `"$id:bob"` is sent as bob's number."""
    return f"$id:{name}"


def raw_basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


SIGNUP = {"username": "dave", "email": "dave@example.com", "password": "correct-horse"}


def register(case_id: str, *words: str, body: bytes | None = None, **fields: Any) -> ParameterSet:
    """POST /api/users, anonymous: a valid sign-up but for `fields` (`...` leaves one out)."""
    signup = {name: value for name, value in {**SIGNUP, **fields}.items() if value is not ...}
    json = None if body else signup
    return bad(
        f"register-{case_id}", "POST /api/users", 400, *words, json=json, body=body, as_user=None
    )


def post(case_id: str, *words: str, status: int = 400, **request: Any) -> ParameterSet:
    """POST /api/posts as susan."""
    return bad(f"post-{case_id}", "POST /api/posts", status, *words, **request)


def query(case_id: str, url: str, *words: str, status: int = 400) -> ParameterSet:
    """A GET as susan: the query string (or the path) is what is wrong."""
    return bad(case_id, f"GET {url}", status, *words)


# fmt: off
# --- JSON bodies: POST /api/users (no authentication) -------------------------------------

REGISTER = [
    register("username-missing", "username", "required", username=...),
    register("password-missing", "password", "required", password=...),
    register("extra-fields-do-not-stand-in-for-a-missing-one", "email",
             email=..., id=1, password_hash="x", mail="dave@example.com"),
    register("username-null", "username", "string", username=None),
    register("username-number", "username", "string", username=42),
    register("username-array", "username", "string", username=["dave"]),
    register("username-object", "username", "string", username={"name": "dave"}),
    register("password-boolean", "password", "string", password=True),
    register("username-empty", "username", username=""),
    register("username-65-characters", "username", "64", username="d" * 65),
    register("username-taken-in-another-case", "username", username="SUSAN"),
    register("username-sql-injection", "username", username="dave'; DROP TABLE users; --"),
    register("username-html-injection", "username", username="<script>alert(1)</script>"),
    register("username-escape-sequence", "username", username="dave\x1b[2J"),
    register("username-right-to-left-override", "username", username="dave\u202egnp.exe"),
    register("email-empty", "email", email=""),
    register("email-sql-injection", "email", email="x' OR '1'='1@example.com"),
    register("email-html-injection", "email", email="<img src=x onerror=alert(1)>@example.com"),
    register("email-100k-characters", "email", email="d" * 100_000 + "@example.com"),
    register("password-7-characters", "password", "8", password="1234567"),
    register("password-100k-characters", "password", "256", password="p" * 100_000),
    register("about-me-141-characters", "about_me", "140", about_me="a" * 141),
    register("about-me-nul", "about_me", "NUL", about_me="nul\x00byte"),
    register("about-me-bell-character", "about_me", "control", about_me="ding\x07"),
    register("duplicate-username-key", "username", "more than once",
             body=b'{"username": "dave", "email": "dave@example.com", '
                  b'"password": "correct-horse", "username": "susan"}'),
    register("array-not-object", "object", body=orjson.dumps([SIGNUP])),
]

# --- JSON bodies: PUT /api/users/<id> ------------------------------------------------------

ME = "PUT /api/users/{susan}"
EDIT_USER = [
    bad("edit-user-username-null", ME, 400, "username", "null", json={"username": None}),
    bad("edit-user-about-me-null", ME, 400, "about_me", "null", json={"about_me": None}),
    bad("edit-user-about-me-number", ME, 400, "about_me", "string", json={"about_me": 7}),
    bad("edit-user-about-me-141-characters", ME, 400, "about_me", json={"about_me": "a" * 141}),
    bad("edit-user-about-me-escape-sequence", ME, 400, "about_me", "control",
        json={"about_me": "\x1b[31mred"}),
    bad("edit-user-about-me-c1-control", ME, 400, "about_me", "U+009B",
        json={"about_me": "csi\x9b"}),
    bad("edit-user-email-not-an-address", ME, 400, "email", json={"email": "not-an-address"}),
    bad("edit-user-username-taken", ME, 400, "username", json={"username": "bob"}),
    bad("edit-user-good-fields-then-a-bad-one-change-nothing", ME, 400, "email",
        json={"about_me": "new", "username": "susan2", "email": "@"}),
    bad("edit-user-password-without-old-password", ME, 400, "old_password",
        json={"password": "a-new-password"}),
    bad("edit-user-email-without-old-password", ME, 400, "old_password", "email",
        json={"email": "new@example.com"}),
    bad("edit-user-email-taken-with-a-wrong-old-password", ME, 400, "old_password",
        "not the current", json={"email": "bob@example.com", "old_password": "wrong-horse"}),
    bad("edit-user-duplicate-about-me-key", ME, 400, "about_me", "more than once",
        body=b'{"about_me": "a", "about_me": "b"}'),
    bad("edit-user-someone-else", "PUT /api/users/{bob}", 403, "your own",
        json={"about_me": "hacked"}),
    bad("edit-user-id-past-int64", f"PUT /api/users/{INT64}", 404, str(INT64),
        json={"about_me": "x"}),
    bad("edit-user-id-5000-digits", "PUT /api/users/" + "9" * 5000, 404, "does not exist",
        json={"about_me": "x"}),
    bad("edit-user-stale-if-match", ME, 412, "If-Match", json={"about_me": "x"},
        headers={"If-Match": '"not-the-etag"'}),
]

# --- JSON bodies: DELETE /api/me (susan's password is "correct-horse": no case may send it
# in a way that is accepted, or the world would lose her) -----------------------------------

DELETE_ME = "DELETE /api/me"
RIGHT = "correct-horse"
DELETE_ACCOUNT = [
    bad("delete-me-password-missing", DELETE_ME, 400, "password", "required", json={}),
    bad("delete-me-password-null", DELETE_ME, 400, "password", "string", json={"password": None}),
    bad("delete-me-password-number", DELETE_ME, 400, "password", "string",
        json={"password": 12345678}),
    bad("delete-me-password-array", DELETE_ME, 400, "password", "string",
        json={"password": [RIGHT]}),
    bad("delete-me-password-empty", DELETE_ME, 400, "password", "required",
        json={"password": ""}),
    bad("delete-me-password-wrong", DELETE_ME, 400, "password", "not the current",
        json={"password": "wrong-horse"}),
    bad("delete-me-password-in-another-case", DELETE_ME, 400, "password", "not the current",
        json={"password": RIGHT.upper()}),
    bad("delete-me-password-100k-characters", DELETE_ME, 400, "password", "not the current",
        json={"password": RIGHT * 10_000}),
    bad("delete-me-password-nul", DELETE_ME, 400, "password", "not the current",
        json={"password": RIGHT + "\x00"}),
    bad("delete-me-extra-fields-do-not-stand-in-for-the-password", DELETE_ME, 400, "password",
        "required", json={"old_password": RIGHT, "Password": RIGHT, "confirm": True, "id": 1}),
    bad("delete-me-duplicate-password-key", DELETE_ME, 400, "password", "more than once",
        body=b'{"password": "wrong-horse", "password": "correct-horse"}'),
    bad("delete-me-json-array", DELETE_ME, 400, "object", json=[{"password": RIGHT}]),
    bad("delete-me-no-body", DELETE_ME, 415, "Content-Type"),
    bad("delete-me-form-encoded", DELETE_ME, 415, "Content-Type", body=b"password=correct-horse",
        content_type="application/x-www-form-urlencoded"),
    bad("delete-me-over-one-mebibyte", DELETE_ME, 413, str(MIB),
        body=b'{"password": "' + b"p" * MIB + b'"}'),
    bad("delete-me-without-a-token", DELETE_ME, 401, "bearer token", as_user=None,
        json={"password": RIGHT}),
    bad("delete-me-with-basic-credentials", DELETE_ME, 401, "bearer token", as_user=None,
        json={"password": RIGHT}, headers=raw_basic(b"susan:correct-horse")),
]

# --- JSON bodies: POST /api/posts, and raw bodies of every kind ----------------------------

TOO_BIG = b'{"body": "' + b"x" * MIB + b'"}'
POSTS = [
    post("body-missing", "body", "required", json={}),
    post("body-null", "body", "string", json={"body": None}),
    post("body-number", "body", "string", json={"body": 280}),
    post("body-array", "body", "string", json={"body": ["hi"]}),
    post("body-object", "body", "string", json={"body": {"text": "hi"}}),
    post("body-empty", "body", "empty", json={"body": ""}),
    post("body-only-whitespace", "body", "empty", json={"body": " \n\t\u3000 "}),
    post("body-281-characters", "body", "280", json={"body": "x" * 281}),
    post("body-500k-characters", "body", "280", json={"body": "x" * 500_000}),
    post("body-nul", "body", "NUL", json={"body": "a\x00b"}),
    post("body-escape-sequence", "body", "control", "U+001B", json={"body": "\x1b]0;owned\x07"}),
    post("extra-fields-are-not-a-body", "body", "required",
         json={"text": "hi", "user_id": 2, "id": 1}),
    post("duplicate-body-key", "body", "more than once",
         body=b'{"body": "first", "body": "second"}'),
    post("duplicate-key-with-colons-in-strings", "body", "more than once",
         body=b'{"body": "at 10:30: https://x.org", "body": "b"}'),
    post("duplicate-key-beside-an-escaped-colon", "body", "more than once",
         body=b'{"body": "\\u003a", "body": "b"}'),
    post("duplicate-key-spelled-with-an-escape", "body", "more than once",
         body=b'{"body": "a", "\\u0062ody": "b"}'),
    post("duplicate-key-in-a-nested-object", "'a'", "more than once",
         body=b'{"body": "hi", "meta": {"a": 1, "a": 2}}'),
    post("invalid-utf8", "UTF-8", "0xff", body=b'{"body": "\xff"}'),
    post("overlong-utf8", "UTF-8", body=b'{"body": "\xc0\xaf"}'),
    post("lone-surrogate-escape", "surrogate", body=b'{"body": "\\ud800"}'),
    post("raw-control-character-in-a-string", "control character", body=b'{"body": "a\x07b"}'),
    post("raw-nul-byte", "JSON", body=b'{"body": "a\x00b"}'),
    post("nested-10000-deep", "depth", body=b'{"body": ' + nested(10_000) + b"}"),
    post("nested-1000-deep", "deeper than 32", body=b'{"body": "hi", "x": ' + nested(1000) + b"}"),
    post("nested-33-deep-objects", "deeper than 32",
         body=b'{"body": "hi", "x": ' + b'{"a": ' * 32 + b"1" + b"}" * 32 + b"}"),
    post("nan", "JSON", body=b'{"body": NaN}'),
    post("json-array", "object", json=[{"body": "hi"}]),
    post("json-string", "object", json="hi"),
    post("json-null", "object", body=b"null"),
    post("empty-body", "empty", body=b""),
    post("whitespace-body", "empty", body=b" \r\n "),
    post("trailing-garbage", "JSON", body=b'{"body": "hi"} trailing'),
    post("two-documents", "JSON", body=b'{"body": "a"}{"body": "b"}'),
    post("byte-order-mark", "JSON", body=b'\xef\xbb\xbf{"body": "hi"}'),
    post("utf16", "UTF-8", body='{"body": "hi"}'.encode("utf-16"),
         content_type="application/json; charset=utf-16"),
    post("single-quotes", "JSON", body=b"{'body': 'hi'}"),
    post("json-as-text-plain", "Content-Type", status=415, body=b'{"body": "hi"}',
         content_type="text/plain"),
    post("form-encoded", "Content-Type", status=415, body=b"body=hi",
         content_type="application/x-www-form-urlencoded"),
    post("no-content-type", "Content-Type", status=415, body=b'{"body": "hi"}', content_type=""),
    post("over-one-mebibyte", str(MIB), status=413, body=TOO_BIG),
    post("over-one-mebibyte-with-idempotency-key", str(MIB), status=413, body=TOO_BIG,
         headers={"Idempotency-Key": "k-413"}),
    post("idempotency-key-256-characters", "Idempotency-Key", json={"body": "hi"},
         headers={"Idempotency-Key": "k" * 256}),
    post("idempotency-key-empty", "Idempotency-Key", json={"body": "hi"},
         headers={"Idempotency-Key": ""}),
    post("idempotency-key-control-character", "Idempotency-Key", json={"body": "hi"},
         headers={"Idempotency-Key": "k\x07"}),
    post("bad-body-with-an-idempotency-key", "body", json={"body": ""},
         headers={"Idempotency-Key": "k-empty"}),
]

# --- PUT and DELETE /api/posts/<id> --------------------------------------------------------

MY_POST = "PUT /api/posts/{post}"
EDIT_POST = [
    bad("edit-post-body-empty", MY_POST, 400, "body", json={"body": ""}),
    bad("edit-post-body-number", MY_POST, 400, "body", "string", json={"body": 1}),
    bad("edit-post-body-missing", MY_POST, 400, "body", "required", json={}),
    bad("edit-post-duplicate-body-key", MY_POST, 400, "body", "more than once",
        body=b'{"body": "a", "body": "b"}'),
    bad("edit-post-someone-elses", "PUT /api/posts/{bob_post}", 403, "your own",
        json={"body": "mine now"}),
    bad("edit-post-id-past-int32", f"PUT /api/posts/{INT32}", 404, str(INT32),
        json={"body": "x"}),
    bad("edit-post-id-past-int64", f"PUT /api/posts/{INT64}", 404, str(INT64),
        json={"body": "x"}),
    bad("edit-post-stale-if-match", MY_POST, 412, "If-Match", json={"body": "x"},
        headers={"If-Match": "garbage"}),
    bad("delete-post-someone-elses", "DELETE /api/posts/{bob_post}", 403, "your own"),
    bad("delete-post-id-zero", "DELETE /api/posts/0", 404, "post 0"),
    bad("delete-post-id-past-int64", f"DELETE /api/posts/{INT64}", 404, str(INT64)),
    bad("delete-post-id-sql-injection", "DELETE /api/posts/1%3B%20DROP%20TABLE%20posts", 404,
        "not found"),
]

# --- POST /api/messages and /api/tasks -----------------------------------------------------

SEND = "POST /api/messages"
MESSAGES = [
    bad("message-recipient-missing", SEND, 400, "recipient_id", "required", json={"body": "hi"}),
    bad("message-recipient-string", SEND, 400, "recipient_id", "integer",
        json={"recipient_id": "2", "body": "hi"}),
    bad("message-recipient-float", SEND, 400, "recipient_id", "integer",
        json={"recipient_id": 2.0, "body": "hi"}),
    bad("message-recipient-boolean", SEND, 400, "recipient_id", "integer",
        json={"recipient_id": True, "body": "hi"}),
    bad("message-recipient-null", SEND, 400, "recipient_id", "integer",
        json={"recipient_id": None, "body": "hi"}),
    bad("message-recipient-zero", SEND, 400, "recipient_id",
        json={"recipient_id": 0, "body": "hi"}),
    bad("message-recipient-negative", SEND, 400, "recipient_id",
        json={"recipient_id": -1, "body": "hi"}),
    bad("message-recipient-past-int32", SEND, 400, "recipient_id",
        json={"recipient_id": INT32, "body": "hi"}),
    bad("message-recipient-past-int64", SEND, 400, "recipient_id",
        body=b'{"recipient_id": 18446744073709551616, "body": "hi"}'),
    bad("message-recipient-1e309", SEND, 400, "infinity",
        body=b'{"recipient_id": 1e309, "body": "hi"}'),
    bad("message-to-yourself", SEND, 400, "yourself",
        json={"recipient_id": id_of("susan"), "body": "hi"}),
    bad("message-body-1001-characters", SEND, 400, "body", "1000",
        json={"recipient_id": id_of("bob"), "body": "m" * 1001}),
    bad("message-body-escape-sequence", SEND, 400, "body", "control",
        json={"recipient_id": id_of("bob"), "body": "\x1b[2J"}),
    bad("message-duplicate-recipient-key", SEND, 400, "recipient_id", "more than once",
        body=b'{"recipient_id": 2, "body": "hi", "recipient_id": 3}'),
]

TASK = "POST /api/tasks"
TASKS = [
    bad("task-name-missing", TASK, 400, "name", "required", json={}),
    bad("task-name-null", TASK, 400, "name", "string", json={"name": None}),
    bad("task-name-number", TASK, 400, "name", "string", json={"name": 1}),
    bad("task-name-unknown", TASK, 400, "name", json={"name": "rm -rf /"}),
    bad("task-name-sql-injection", TASK, 400, "name", json={"name": "export_posts' OR '1'='1"}),
    bad("task-name-html-injection", TASK, 400, "name", json={"name": "<script>alert(1)</script>"}),
    bad("task-name-with-nul", TASK, 400, "name", json={"name": "export_posts\x00"}),
    bad("task-body-not-object", TASK, 400, "object", json=["export_posts"]),
]

# --- Routes without a body: the path and the credentials are what can be wrong -------------

FOLLOWING = [
    bad("follow-yourself", "POST /api/me/following/{susan}", 400, "yourself"),
    bad("follow-someone-already-followed", "POST /api/me/following/{bob}", 409, "already"),
    bad("follow-id-past-int32", f"POST /api/me/following/{INT32}", 404, str(INT32)),
    bad("follow-id-past-int64", f"POST /api/me/following/{INT64}", 404, str(INT64)),
    bad("follow-id-negative", "POST /api/me/following/-1", 404, "not found"),
    bad("unfollow-someone-not-followed", "DELETE /api/me/following/{carol}", 409, "carol"),
    bad("unfollow-id-past-int64", f"DELETE /api/me/following/{INT64}", 404, str(INT64)),
    bad("unfollow-id-html-injection", "DELETE /api/me/following/%3Cscript%3E", 404,
        "not found"),
]

# Every wrong credential for a token answers alike: none tells which accounts exist.
TOKEN = "POST /api/tokens"
LOGIN = "username and password"
WRONG = "invalid username or password"
TOKENS = [
    bad("token-without-credentials", TOKEN, 401, LOGIN, as_user=None),
    bad("token-wrong-password", TOKEN, 401, WRONG, as_user=None,
        headers=raw_basic(b"susan:wrong-horse")),
    bad("token-basic-not-base64", TOKEN, 401, LOGIN, as_user=None,
        headers={"Authorization": "Basic !!!not*base64!!!"}),
    bad("token-basic-without-colon", TOKEN, 401, LOGIN, as_user=None,
        headers=raw_basic(b"susan")),
    bad("token-basic-empty-username", TOKEN, 401, LOGIN, as_user=None,
        headers=raw_basic(b":correct-horse")),
    bad("token-basic-not-utf8", TOKEN, 401, WRONG, as_user=None,
        headers=raw_basic(b"susan\xff:correct-horse\xfe")),
    bad("token-basic-sql-injection", TOKEN, 401, WRONG, as_user=None,
        headers=raw_basic(b"' OR '1'='1' --:' OR '1'='1")),
    bad("token-bearer-instead-of-basic", TOKEN, 401, LOGIN, as_user=None,
        headers={"Authorization": "Bearer " + "0" * 64}),
    bad("token-basic-credentials-under-the-bearer-scheme", TOKEN, 401, LOGIN, as_user=None,
        headers={"Authorization": "Bearer " + base64.b64encode(b"susan:correct-horse").decode()}),
    bad("revoke-without-a-token", "DELETE /api/tokens", 401, "bearer token", as_user=None),
    bad("revoke-with-a-wrong-token", "DELETE /api/tokens", 401, "token", as_user=None,
        headers={"Authorization": "Bearer " + "0" * 64}),
    bad("end-someone-elses-token", "DELETE /api/tokens/{bob_token}", 404, "no token"),
    bad("end-a-token-that-does-not-exist", "DELETE /api/tokens/999999", 404, "no token"),
    bad("end-a-token-id-past-int64", f"DELETE /api/tokens/{INT64}", 404, str(INT64)),
    bad("end-a-token-id-negative", "DELETE /api/tokens/-1", 404, "not found"),
    bad("end-a-token-without-a-token", "DELETE /api/tokens/{bob_token}", 401, "bearer token",
        as_user=None),
]

# --- Header abuse, on a request that would otherwise succeed (writing a post) --------------


def header(case_id: str, status: int, word: str, value: str, **request: Any) -> ParameterSet:
    """POST /api/posts with a good body and `value` as the Authorization header."""
    request.setdefault("headers", {"Authorization": value})
    request.setdefault("as_user", None)
    return bad(f"header-{case_id}", "POST /api/posts", status, word, json={"body": "hi"}, **request)


HEADERS = [
    header("bearer-with-nothing", 401, "bearer token", "Bearer"),
    header("bearer-with-spaces", 401, "bearer token", "Bearer      "),
    header("bearer-with-three-words", 401, "token", "Bearer a b c"),
    header("bearer-10k-token", 401, "token", "Bearer " + "f" * 10_000),
    header("bearer-not-utf8", 401, "token", "Bearer \xff\xfe\xfd"),
    header("bearer-sql-injection", 401, "bearer token", "Bearer ' OR '1'='1"),
    header("basic-on-a-bearer-route", 401, "bearer token", "",
           headers=raw_basic(b"susan:correct-horse")),
    header("scheme-only-basic", 401, "bearer token", "Basic"),
    header("20k-authorization", 431, "Authorization", "Bearer " + HUGE_HEADER),
    header("20k-custom-header", 431, "X-Padding", "", as_user="susan",
           headers={"X-Padding": HUGE_HEADER}),
    header("20k-content-type", 431, "Content-Type", "", as_user="susan", headers={},
           content_type="application/json; x=" + HUGE_HEADER),
]

# --- Query parameters: every parameter of every route that takes some ----------------------

# The same bad numbers for page, per_page and the keyset ids, spread over the routes so each
# route meets several of them and each of them several routes.
PAGING = [
    query("users-page-zero", "/api/users?page=0", "page"),
    query("users-page-negative", "/api/users?page=-1", "page"),
    query("users-page-decimal", "/api/users?page=1.5", "page"),
    query("users-page-1e309", "/api/users?page=1e309", "page"),
    query("users-page-nan", "/api/users?page=NaN", "page"),
    query("users-page-empty", "/api/users?page=", "page"),
    query("users-page-past-int32", f"/api/users?page={INT32}", "page"),
    query("users-page-past-int64", f"/api/users?page={INT64}", "page"),
    query("users-page-sql-injection", "/api/users?page=1%3B%20DROP%20TABLE%20users", "page"),
    query("users-page-nul", "/api/users?page=1%00", "page"),
    query("users-page-fullwidth-digit", "/api/users?page=%EF%BC%91", "page"),
    query("users-page-invalid-utf8", "/api/users?page=%FF", "page"),
    query("users-page-given-twice", "/api/users?page=1&page=2", "page", "more than once"),
    query("users-per-page-zero", "/api/users?per_page=0", "per_page"),
    query("users-per-page-negative", "/api/users?per_page=-10", "per_page"),
    query("users-per-page-html-injection", "/api/users?per_page=%3Cscript%3E", "per_page"),
    query("followers-page-word", "/api/users/{susan}/followers?page=two", "page"),
    query("followers-per-page-zero", "/api/users/{susan}/followers?per_page=0", "per_page"),
    query("following-page-zero", "/api/users/{susan}/following?page=0", "page"),
    query("following-per-page-nan", "/api/users/{susan}/following?per_page=NaN", "per_page"),
    query("tasks-page-negative", "/api/tasks?page=-1", "page"),
    query("tasks-per-page-1e309", "/api/tasks?per_page=1e309", "per_page"),
]

TIMELINES = [
    query("posts-max-id-zero", "/api/posts?max_id=0", "max_id"),
    query("posts-max-id-past-int32", f"/api/posts?max_id={INT32}", "max_id"),
    query("posts-max-id-past-int64", f"/api/posts?max_id={INT64}", "max_id"),
    query("posts-max-id-1e309", "/api/posts?max_id=1e309", "max_id"),
    query("posts-since-id-nan", "/api/posts?since_id=NaN", "since_id"),
    query("posts-min-id-decimal", "/api/posts?min_id=1.5", "min_id"),
    query("posts-page-zero", "/api/posts?page=0", "page"),
    query("posts-per-page-empty", "/api/posts?per_page=", "per_page"),
    query("posts-max-id-given-twice", "/api/posts?max_id=5&max_id=6", "max_id", "more than once"),
    query("user-posts-max-id-negative", "/api/users/{susan}/posts?max_id=-1", "max_id"),
    query("user-posts-since-id-past-int64", f"/api/users/{{susan}}/posts?since_id={INT64}",
          "since_id"),
    query("user-posts-min-id-zero", "/api/users/{susan}/posts?min_id=0", "min_id"),
    query("user-posts-page-nan", "/api/users/{susan}/posts?page=NaN", "page"),
    query("user-posts-per-page-word", "/api/users/{susan}/posts?per_page=ten", "per_page"),
    query("feed-max-id-word", "/api/feed?max_id=newest", "max_id"),
    query("feed-since-id-past-int32", f"/api/feed?since_id={INT32}", "since_id"),
    query("feed-min-id-1e309", "/api/feed?min_id=1e309", "min_id"),
    query("feed-page-past-int32", f"/api/feed?page={INT32}", "page"),
    query("feed-per-page-negative", "/api/feed?per_page=-1", "per_page"),
    # Reading the inbox marks it read: a rejected read must leave bob's message unread.
    query("inbox-max-id-past-int64", f"/api/messages?max_id={INT64}", "max_id"),
    query("inbox-since-id-empty", "/api/messages?since_id=", "since_id"),
    query("inbox-min-id-negative", "/api/messages?min_id=-5", "min_id"),
    query("inbox-page-1e309", "/api/messages?page=1e309", "page"),
    query("inbox-per-page-zero", "/api/messages?per_page=0", "per_page"),
    query("sent-max-id-nan", "/api/messages/sent?max_id=NaN", "max_id"),
    query("sent-since-id-decimal", "/api/messages/sent?since_id=2.5", "since_id"),
    query("sent-min-id-past-int64", f"/api/messages/sent?min_id={INT64}", "min_id"),
    query("sent-page-negative", "/api/messages/sent?page=-1", "page"),
    query("sent-per-page-nan", "/api/messages/sent?per_page=NaN", "per_page"),
]

NOTIFICATIONS = [
    query("notifications-since-nan", "/api/notifications?since=NaN", "since"),
    query("notifications-since-empty", "/api/notifications?since=", "since"),
    query("notifications-since-negative", "/api/notifications?since=-1", "since"),
    query("notifications-since-impossible-date", "/api/notifications?since=2024-13-45", "since"),
    query("notifications-since-sql-injection",
          "/api/notifications?since=1%27%20OR%20%271%27%3D%271", "since"),
    query("notifications-since-past-year-9999",
          "/api/notifications?since=9999-12-31T23:59:59-23:59", "since"),
    query("notifications-since-before-year-1",
          "/api/notifications?since=0001-01-01T00:00:00%2B23:59", "since"),
    query("notifications-since-given-twice", "/api/notifications?since=1&since=2", "since"),
    query("notifications-per-page-zero", "/api/notifications?per_page=0", "per_page"),
    query("notifications-per-page-word", "/api/notifications?per_page=all", "per_page"),
]

SEARCH = [
    query("search-q-missing", "/api/search", "q", "required"),
    query("search-q-empty", "/api/search?q=", "q"),
    query("search-q-only-punctuation", "/api/search?q=%21%21%21", "q"),
    query("search-q-unclosed-quote", "/api/search?q=%22hello", "q"),
    query("search-q-10k-characters", "/api/search?q=" + "w" * 10_000, "q"),
    query("search-q-nul", "/api/search?q=hello%00", "q"),
    query("search-q-given-twice", "/api/search?q=a&q=b", "q", "more than once"),
    query("search-type-unknown", "/api/search?q=hello&type=messages", "type"),
    query("search-type-sql-injection", "/api/search?q=hello&type=posts%27%20OR%201%3D1", "type"),
    query("search-page-zero", "/api/search?q=hello&page=0", "page"),
    query("search-per-page-nan", "/api/search?q=hello&per_page=NaN", "per_page"),
]

# Ids in the paths of reads: past the 32-bit column, and past what Python's int() reads.
PATHS = [
    query("get-user-id-past-int64", f"/api/users/{INT64}", str(INT64), status=404),
    query("get-user-id-5000-digits", "/api/users/" + "9" * 5000, "does not exist", status=404),
    query("get-post-id-past-int64", f"/api/posts/{INT64}", str(INT64), status=404),
    query("get-message-id-past-int64", f"/api/messages/{INT64}", str(INT64), status=404),
    query("get-user-posts-id-past-int32", f"/api/users/{INT32}/posts", str(INT32), status=404),
    query("get-task-id-not-a-uuid", "/api/tasks/%27%20OR%201%3D1", "not found", status=404),
]
# fmt: on

BODIES = [
    *REGISTER,
    *EDIT_USER,
    *DELETE_ACCOUNT,
    *POSTS,
    *EDIT_POST,
    *MESSAGES,
    *TASKS,
    *FOLLOWING,
    *TOKENS,
]
QUERIES = [*PAGING, *TIMELINES, *NOTIFICATIONS, *SEARCH, *PATHS]
CASES = [*BODIES, *HEADERS, *QUERIES]
