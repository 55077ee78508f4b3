"""Machine translation of posts through a configured service, or none at all.

Two protocols: LibreTranslate (any compatible server, self-hosted or not) and Microsoft
Translator. Which one is used follows from the settings; with neither, `configured` is False
and the site shows no "Translate" link.

A slow translator must not hold a worker for long: it has `connect_timeout` seconds to accept
the connection and `timeout` seconds for the whole answer (each wait for data, and all of them
together), after which `TranslationTimedOut` is raised. Answers larger than MAX_ANSWER_BYTES
are refused. Translations made are kept (`translation_cache`) and not asked for twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from microblog.errors import N_, DomainError
from microblog.posts.translation_cache import TranslationCache, cache_key

CONNECT_TIMEOUT = 1.0
TIMEOUT = 3.0
MAX_ANSWER_BYTES = 1024 * 1024
_CHUNK = 16 * 1024


class TranslationFailed(DomainError):
    """The service could not be reached or refused; the post stays untranslated."""


class TranslationTimedOut(TranslationFailed):
    """The service did not answer within the time allowed."""


@dataclass(frozen=True)
class TranslatorSettings:
    libretranslate_url: str | None = None
    libretranslate_key: str | None = None
    microsoft_key: str | None = None
    microsoft_region: str | None = None
    microsoft_url: str = "https://api.cognitive.microsofttranslator.com"
    connect_timeout: float = CONNECT_TIMEOUT
    timeout: float = TIMEOUT

    @property
    def configured(self) -> bool:
        return bool(self.libretranslate_url or self.microsoft_key)

    @property
    def service(self) -> str:
        """Which service answers: part of a cached translation's key."""
        if self.libretranslate_url:
            return f"libretranslate {self.libretranslate_url.rstrip('/')}"
        return f"microsoft {self.microsoft_url.rstrip('/')}"

    @classmethod
    def from_config(cls, config: Any) -> TranslatorSettings:
        return cls(
            libretranslate_url=config.get("LIBRETRANSLATE_URL"),
            libretranslate_key=config.get("LIBRETRANSLATE_API_KEY"),
            microsoft_key=config.get("MS_TRANSLATOR_KEY"),
            microsoft_region=config.get("MS_TRANSLATOR_REGION"),
            microsoft_url=config.get("MS_TRANSLATOR_URL")
            or "https://api.cognitive.microsofttranslator.com",
            connect_timeout=float(config.get("TRANSLATOR_CONNECT_TIMEOUT", CONNECT_TIMEOUT)),
            timeout=float(config.get("TRANSLATOR_TIMEOUT", TIMEOUT)),
        )


def translate(
    settings: TranslatorSettings,
    text: str,
    source: str | None,
    target: str,
    cache: TranslationCache | None = None,
) -> str:
    """`text` in `target`, from the cache if it was translated before, else from the service."""
    if not settings.configured:
        raise TranslationFailed(N_("no translation service is configured"))
    key = cache_key(settings.service, source, target, text)
    kept = cache.get(key) if cache is not None else None
    if kept is not None:
        return kept
    translated = _ask(settings, text, source, target)
    if cache is not None:
        cache.put(key, translated)
    return translated


def _ask(settings: TranslatorSettings, text: str, source: str | None, target: str) -> str:
    try:
        if settings.libretranslate_url:
            return _libretranslate(settings, text, source, target)
        return _microsoft(settings, text, source, target)
    except requests.Timeout:
        raise TranslationTimedOut(
            N_("the translation service did not answer within %(seconds)s s"),
            seconds=f"{settings.timeout:g}",
        ) from None
    except (requests.RequestException, KeyError, IndexError, TypeError, ValueError) as exc:
        raise TranslationFailed(
            N_("the translation service failed: %(reason)s"), reason=str(exc)
        ) from None


def _post(settings: TranslatorSettings, url: str, **kwargs: Any) -> Any:
    """POST to the service and read its JSON answer, within the settings' time limits.

    requests' read timeout bounds each wait for data; a service that sends a byte at a time
    would never trip it, so the whole answer must also arrive by a deadline, checked each time
    data arrives (`read1` returns what one read of the socket brought).
    """
    deadline = time.monotonic() + settings.timeout
    with requests.post(
        url, timeout=(settings.connect_timeout, settings.timeout), stream=True, **kwargs
    ) as response:
        response.raise_for_status()
        body = bytearray()
        try:
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                body += chunk
                if time.monotonic() > deadline:
                    raise requests.Timeout("the answer took too long")
                if len(body) > MAX_ANSWER_BYTES:
                    raise ValueError(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
        except requests.RequestException:
            raise
        except ReadTimeoutError as exc:
            raise requests.Timeout(str(exc)) from None
        except (ProtocolError, OSError) as exc:  # urllib3's and the socket's own
            raise requests.ConnectionError(str(exc)) from None
    return json.loads(body)


def _libretranslate(
    settings: TranslatorSettings, text: str, source: str | None, target: str
) -> str:
    body = {"q": text, "source": source or "auto", "target": target, "format": "text"}
    if settings.libretranslate_key:
        body["api_key"] = settings.libretranslate_key
    url = f"{settings.libretranslate_url.rstrip('/')}/translate"  # type: ignore[union-attr]
    return str(_post(settings, url, json=body)["translatedText"])


def _microsoft(settings: TranslatorSettings, text: str, source: str | None, target: str) -> str:
    params = {"api-version": "3.0", "to": target}
    if source:
        params["from"] = source
    headers = {"Ocp-Apim-Subscription-Key": settings.microsoft_key or ""}
    if settings.microsoft_region:
        headers["Ocp-Apim-Subscription-Region"] = settings.microsoft_region
    answer = _post(
        settings,
        f"{settings.microsoft_url.rstrip('/')}/translate",
        params=params,
        headers=headers,
        json=[{"Text": text}],
    )
    return str(answer[0]["translations"][0]["text"])
