"""The "Translate" link, and translations fetched from real (local) services speaking the
LibreTranslate and Microsoft Translator v3 protocols."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from redis import Redis

from microblog.extensions import db
from microblog.posts.models import Post
from tests.ops.ops_support import redis_or_skip, unique_prefix
from tests.tasks.task_support import free_port
from tests.web.web_support import Browser, text

SPANISH = "Hola, ¿cómo estás? Hoy hace un día muy bonito en Madrid."
ENGLISH = "Hello, how are you today? The weather is lovely in London."
FRENCH = "Bonjour, comment allez-vous aujourd'hui? Il fait beau à Paris."
TRANSLATE_LINK = re.compile(r'data-translate="/fragments/translate/(\d+)"')


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Translator:
    """A local HTTP server that answers POST /translate as `answer` says, and keeps requests."""

    url: str
    answer: Callable[[Received], tuple[int, Any]]
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Received], tuple[int, Any]]], Translator]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[Received], tuple[int, Any]]) -> Translator:
        translator = Translator("", answer)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = Received(
                    "POST",
                    parts.path,
                    parse_qs(parts.query),
                    {name.lower(): value for name, value in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                translator.received.append(request)
                status, body = translator.answer(request)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                # A client that gave up (a time limit) has closed the connection.
                with contextlib.suppress(ConnectionError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        translator.url = f"http://127.0.0.1:{server.server_address[1]}"
        return translator

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve_raw() -> Iterator[Callable[[Callable[[Callable[[bytes], None]], None]], str]]:
    """A local server that hands each connection to `talk`, which writes what it likes (a
    misbehaving service); its URL."""
    listeners: list[socket.socket] = []

    def start(talk: Callable[[Callable[[bytes], None]], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(65536)
                    with contextlib.suppress(OSError):
                        talk(connection.sendall)

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def libretranslate(request: Received) -> tuple[int, Any]:
    if request.path != "/translate":
        return 404, {"error": "Not Found"}
    body = request.body
    return 200, {"translatedText": f"[{body['source']}->{body['target']}] {body['q'][:5]}"}


def microsoft(request: Received) -> tuple[int, Any]:
    if request.path != "/translate" or request.query.get("api-version") != ["3.0"]:
        return 400, {"error": {"code": 400021, "message": "bad api-version"}}
    target = request.query["to"][0]
    texts = [item["Text"] for item in request.body]
    return 200, [
        {"translations": [{"text": f"[ms->{target}] {t[:5]}", "to": target}]} for t in texts
    ]


@pytest.fixture
def posts(signed_in: Callable[..., Browser]) -> dict[str, int]:
    """A post in each of three languages, by john: {language: post id}."""
    john = signed_in("john")
    for body in (SPANISH, ENGLISH, FRENCH):
        assert john.write(body).status_code == 302
    return {"es": 1, "en": 2, "fr": 3}


def links(person: Browser, page: str = "/explore") -> set[int]:
    return {int(found) for found in TRANSLATE_LINK.findall(text(person.get(page)))}


def test_without_a_service_there_is_no_translate_link(
    app: Flask, signed_in: Callable[..., Browser], posts: dict[str, int]
) -> None:
    assert app.config["LIBRETRANSLATE_URL"] is None and app.config["MS_TRANSLATOR_KEY"] is None
    susan = signed_in("susan")
    assert links(susan) == set()
    assert "Translate" not in text(susan.get("/explore"))
    answer = susan.get(f"/fragments/translate/{posts['es']}")
    assert answer.status_code == 404 and answer.json == {
        "error": "no translation service is configured"
    }


def test_with_a_service_the_link_is_on_posts_in_other_languages_than_the_reader_s(
    app: Flask, signed_in: Callable[..., Browser], posts: dict[str, int]
) -> None:
    app.config["LIBRETRANSLATE_URL"] = "http://127.0.0.1:9"
    english = signed_in("susan")
    assert links(english) == {posts["es"], posts["fr"]}
    spanish = signed_in("pedro", language="es")
    assert links(spanish) == {posts["en"], posts["fr"]}
    assert ">Traducir</a>" in text(spanish.get("/explore"))
    assert links(spanish, "/user/john") == {posts["en"], posts["fr"]}
    assert links(spanish, "/search?q=London") == {posts["en"]}
    assert links(spanish, "/search?q=Madrid") == set()


def test_a_translation_through_a_libretranslate_server(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve: Callable[..., Translator],
) -> None:
    server = serve(libretranslate)
    app.config["LIBRETRANSLATE_URL"] = server.url + "/"
    app.config["LIBRETRANSLATE_API_KEY"] = "libre-key"
    susan = signed_in("susan")

    answer = susan.get(
        f"/fragments/translate/{posts['es']}", headers={"Accept": "application/json"}
    )

    assert answer.status_code == 200 and answer.json == {"text": "[es->en] Hola,"}
    [request] = server.received
    assert request.path == "/translate"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "q": SPANISH,
        "source": "es",
        "target": "en",
        "format": "text",
        "api_key": "libre-key",
    }
    spanish = signed_in("pedro", language="es")
    assert spanish.get(f"/fragments/translate/{posts['en']}").json == {"text": "[en->es] Hello"}


def test_a_translation_through_a_microsoft_translator_server(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve: Callable[..., Translator],
) -> None:
    server = serve(microsoft)
    app.config.update(
        MS_TRANSLATOR_KEY="ms-key", MS_TRANSLATOR_REGION="westeurope", MS_TRANSLATOR_URL=server.url
    )
    spanish = signed_in("pedro", language="es")
    assert links(spanish) == {posts["en"], posts["fr"]}

    answer = spanish.get(f"/fragments/translate/{posts['fr']}")

    assert answer.status_code == 200 and answer.json == {"text": "[ms->es] Bonjo"}
    [request] = server.received
    assert request.path == "/translate"
    assert request.query == {"api-version": ["3.0"], "to": ["es"], "from": ["fr"]}
    assert request.headers["ocp-apim-subscription-key"] == "ms-key"
    assert request.headers["ocp-apim-subscription-region"] == "westeurope"
    assert request.headers["content-type"] == "application/json"
    assert request.body == [{"Text": FRENCH}]


@pytest.mark.parametrize(
    "answer",
    [
        lambda _request: (500, {"error": "the model crashed"}),
        lambda _request: (200, b"<html>not json</html>"),
        lambda _request: (200, {"unexpected": "shape"}),
        lambda _request: (200, []),
        lambda _request: (429, {"error": "too many requests"}),
    ],
    ids=["500", "not-json", "wrong-shape", "empty-list", "429"],
)
@pytest.mark.parametrize("protocol", ["libretranslate", "microsoft"])
def test_a_failing_service_is_a_clean_502(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve: Callable[..., Translator],
    answer: Callable[[Received], tuple[int, Any]],
    protocol: str,
) -> None:
    server = serve(answer)
    if protocol == "libretranslate":
        app.config["LIBRETRANSLATE_URL"] = server.url
    else:
        app.config.update(MS_TRANSLATOR_KEY="k", MS_TRANSLATOR_URL=server.url)
    susan = signed_in("susan")

    failed = susan.get(f"/fragments/translate/{posts['es']}")

    assert failed.status_code == 502
    assert failed.mimetype == "application/json"
    assert failed.json == {"error": "The translation service failed; please try again later."}
    assert len(server.received) == 1


def test_an_unreachable_service_is_a_clean_502_in_the_reader_s_language(
    app: Flask, signed_in: Callable[..., Browser], posts: dict[str, int]
) -> None:
    app.config["LIBRETRANSLATE_URL"] = f"http://127.0.0.1:{free_port()}"
    spanish = signed_in("pedro", language="es")
    failed = spanish.get(f"/fragments/translate/{posts['en']}")
    assert failed.status_code == 502
    assert failed.json == {
        "error": "El servicio de traducción falló; inténtalo de nuevo más tarde."
    }


def test_translating_a_post_that_does_not_exist_is_404(
    app: Flask, signed_in: Callable[..., Browser], serve: Callable[..., Translator]
) -> None:
    server = serve(libretranslate)
    app.config["LIBRETRANSLATE_URL"] = server.url
    susan = signed_in("susan")
    for post_id in (1, 2**31, 2**63):
        answer = susan.get(f"/fragments/translate/{post_id}")
        assert answer.status_code == 404 and answer.mimetype == "application/json"
    assert server.received == []


# --- what a translation may cost -------------------------------------------------------------


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """Set at the end of the test: a slow service's pending answers then finish."""
    event = threading.Event()
    yield event
    event.set()


def test_a_translator_that_does_not_answer_is_a_504_within_the_time_limit(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve: Callable[..., Translator],
    released: threading.Event,
) -> None:
    def hanging(request: Received) -> tuple[int, Any]:
        released.wait(30)
        return libretranslate(request)

    server = serve(hanging)
    app.config.update(LIBRETRANSLATE_URL=server.url, TRANSLATOR_TIMEOUT=0.5)
    susan = signed_in("susan")

    started = time.monotonic()
    answer = susan.get(f"/fragments/translate/{posts['es']}")

    assert time.monotonic() - started < 3
    assert answer.status_code == 504 and answer.mimetype == "application/json"
    assert answer.json == {"error": "The translation service did not answer in time."}
    spanish = signed_in("pedro", language="es")
    assert spanish.get(f"/fragments/translate/{posts['en']}").json == {
        "error": "El servicio de traducción no respondió a tiempo."
    }


def test_a_translator_that_answers_a_byte_at_a_time_is_cut_off_at_the_deadline(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve_raw: Callable[..., str],
    released: threading.Event,
) -> None:
    """Each byte comes within the read timeout, but the whole answer never would."""

    def trickle(write: Callable[[bytes], None]) -> None:
        write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        )
        while not released.wait(0.05):
            write(b" ")

    app.config.update(LIBRETRANSLATE_URL=serve_raw(trickle), TRANSLATOR_TIMEOUT=0.5)
    susan = signed_in("susan")

    started = time.monotonic()
    answer = susan.get(f"/fragments/translate/{posts['es']}")

    assert time.monotonic() - started < 3
    assert answer.status_code == 504


def test_a_post_is_translated_once_per_language_and_again_once_edited(
    app: Flask,
    signed_in: Callable[..., Browser],
    posts: dict[str, int],
    serve: Callable[..., Translator],
) -> None:
    server = serve(libretranslate)
    app.config["LIBRETRANSLATE_URL"] = server.url
    readers = [signed_in(name) for name in ("susan", "bob")]
    spanish = signed_in("pedro", language="es")

    for reader in readers * 2:
        answer = reader.get(f"/fragments/translate/{posts['fr']}")
        assert answer.json == {"text": "[fr->en] Bonjo"}
    assert spanish.get(f"/fragments/translate/{posts['fr']}").json == {"text": "[fr->es] Bonjo"}
    assert [request.body["target"] for request in server.received] == ["en", "es"]

    with app.app_context():
        db.session.get_one(Post, posts["fr"]).body = "Bonsoir, tout le monde."
        db.session.commit()
    assert readers[0].get(f"/fragments/translate/{posts['fr']}").json == {"text": "[fr->en] Bonso"}
    assert len(server.received) == 3


def test_servers_sharing_a_redis_share_the_translations(
    app: Flask,
    make_other_app: Callable[..., Flask],
    posts: dict[str, int],
    serve: Callable[..., Translator],
) -> None:
    url, prefix = redis_or_skip(), unique_prefix()
    server = serve(libretranslate)
    settings = {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": prefix, "LIBRETRANSLATE_URL": server.url}
    try:
        for n, other in enumerate(make_other_app(**settings) for _ in range(2)):
            reader = Browser(other.test_client())
            assert reader.register(f"reader{n}").status_code == 302
            assert reader.login(f"reader{n}").status_code == 302
            answer = reader.get(f"/fragments/translate/{posts['es']}")
            assert answer.json == {"text": "[es->en] Hola,"}
    finally:
        with Redis.from_url(url) as redis:
            kept = list(redis.scan_iter(match=f"{prefix}:translation:*"))
            if kept:
                redis.delete(*kept)
    assert len(server.received) == 1
    assert len(kept) == 1


def test_each_person_has_a_budget_of_translations(
    make_other_app: Callable[..., Flask],
    posts: dict[str, int],
    serve: Callable[..., Translator],
) -> None:
    server = serve(libretranslate)
    limited = make_other_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_TRANSLATIONS="2 per minute",
        LIBRETRANSLATE_URL=server.url,
    )
    readers = []
    for name in ("reader", "other"):
        reader = Browser(limited.test_client())
        assert reader.register(name).status_code == 302
        assert reader.login(name).status_code == 302
        readers.append(reader)

    answers = [readers[0].get(f"/fragments/translate/{posts[lang]}") for lang in ("es", "fr", "es")]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json == {"error": "Too many translations; please try again later."}
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert readers[1].get(f"/fragments/translate/{posts['es']}").status_code == 200
    assert len(server.received) == 2
