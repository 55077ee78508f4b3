"""Which language a post is written in, or None when the text does not say clearly.

Lingua is accurate on short texts, which posts are. Low-accuracy mode (trigrams only) keeps a
worker's memory at tens of megabytes instead of hundreds, and the minimum relative distance
makes it answer None rather than guess on "ok" or "lol".
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = (
    Language.ARABIC,
    Language.CHINESE,
    Language.DUTCH,
    Language.ENGLISH,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
    Language.JAPANESE,
    Language.KOREAN,
    Language.POLISH,
    Language.PORTUGUESE,
    Language.RUSSIAN,
    Language.SPANISH,
    Language.SWEDISH,
    Language.TURKISH,
)


@cache
def _detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*LANGUAGES)
        .with_minimum_relative_distance(0.25)
        .with_low_accuracy_mode()
        .build()
    )


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when unsure."""
    language = _detector().detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language else None
