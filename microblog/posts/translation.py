"""Machine translation of posts through a configured service, or none at all.

Two protocols: LibreTranslate (any compatible server, self-hosted or not) and Microsoft
Translator. Which one is used follows from the settings; with neither, `configured` is False
and the site shows no "Translate" link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from microblog.errors import N_, DomainError

TIMEOUT = 10  # seconds: a slow translator must not hold a worker for long


class TranslationFailed(DomainError):
    """The service could not be reached or refused; the post stays untranslated."""


@dataclass(frozen=True)
class TranslatorSettings:
    libretranslate_url: str | None = None
    libretranslate_key: str | None = None
    microsoft_key: str | None = None
    microsoft_region: str | None = None
    microsoft_url: str = "https://api.cognitive.microsofttranslator.com"

    @property
    def configured(self) -> bool:
        return bool(self.libretranslate_url or self.microsoft_key)

    @classmethod
    def from_config(cls, config: Any) -> TranslatorSettings:
        return cls(
            libretranslate_url=config.get("LIBRETRANSLATE_URL"),
            libretranslate_key=config.get("LIBRETRANSLATE_API_KEY"),
            microsoft_key=config.get("MS_TRANSLATOR_KEY"),
            microsoft_region=config.get("MS_TRANSLATOR_REGION"),
            microsoft_url=config.get("MS_TRANSLATOR_URL")
            or "https://api.cognitive.microsofttranslator.com",
        )


def translate(settings: TranslatorSettings, text: str, source: str | None, target: str) -> str:
    try:
        if settings.libretranslate_url:
            return _libretranslate(settings, text, source, target)
        if settings.microsoft_key:
            return _microsoft(settings, text, source, target)
    except (requests.RequestException, KeyError, IndexError, TypeError, ValueError) as exc:
        raise TranslationFailed(
            N_("the translation service failed: %(reason)s"), reason=str(exc)
        ) from None
    raise TranslationFailed(N_("no translation service is configured"))


def _libretranslate(
    settings: TranslatorSettings, text: str, source: str | None, target: str
) -> str:
    body = {"q": text, "source": source or "auto", "target": target, "format": "text"}
    if settings.libretranslate_key:
        body["api_key"] = settings.libretranslate_key
    url = f"{settings.libretranslate_url.rstrip('/')}/translate"  # type: ignore[union-attr]
    response = requests.post(url, json=body, timeout=TIMEOUT)
    response.raise_for_status()
    return str(response.json()["translatedText"])


def _microsoft(settings: TranslatorSettings, text: str, source: str | None, target: str) -> str:
    params = {"api-version": "3.0", "to": target}
    if source:
        params["from"] = source
    headers = {"Ocp-Apim-Subscription-Key": settings.microsoft_key or ""}
    if settings.microsoft_region:
        headers["Ocp-Apim-Subscription-Region"] = settings.microsoft_region
    response = requests.post(
        f"{settings.microsoft_url.rstrip('/')}/translate",
        params=params,
        headers=headers,
        json=[{"Text": text}],
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return str(response.json()[0]["translations"][0]["text"])
