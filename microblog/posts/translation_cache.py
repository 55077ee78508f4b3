"""Translations kept once made, so a post is sent to the translator once per language.

Keyed by what determines the answer: the service, the source and target languages and the
text itself (so an edited post is translated afresh, and a deleted one is simply never asked
for again). Shared by every worker and server through Redis when REDIS_URL is set; otherwise
each process keeps its own, bounded, in memory. Redis failing is a miss, never an error: the
translation is then asked for as if it had never been made.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

import redis

log = logging.getLogger(__name__)

# A week: translations do not go stale, but memory is not free.
TTL_SECONDS = 7 * 24 * 3600
MEMORY_ENTRIES = 2048
# Seconds the Redis client waits to connect or for an answer: a hung Redis costs a
# translation this much at most, twice (get and set).
REDIS_TIMEOUT = 0.5


class TranslationCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


def cache_key(service: str, source: str | None, target: str, text: str) -> str:
    """A key of fixed size naming one translation of `text`."""
    material = "\0".join((service, source or "auto", target, text))
    return hashlib.sha256(material.encode()).hexdigest()


class MemoryCache:
    """The newest MEMORY_ENTRIES translations of this process, each for TTL_SECONDS."""

    def __init__(self, entries: int = MEMORY_ENTRIES, ttl: float = TTL_SECONDS) -> None:
        self._entries = entries
        self._ttl = ttl
        self._kept: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            expires, text = found
            if expires < time.monotonic():
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return text

    def put(self, key: str, text: str) -> None:
        with self._lock:
            self._kept[key] = (time.monotonic() + self._ttl, text)
            self._kept.move_to_end(key)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)


class RedisCache:
    """Translations in Redis, for every worker and server of the deployment."""

    def __init__(self, url: str, prefix: str, ttl: int = TTL_SECONDS) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        self._prefix = f"{prefix}:translation:"
        self._ttl = ttl

    def get(self, key: str) -> str | None:
        try:
            found = self._redis.get(self._prefix + key)
        except redis.RedisError as exc:
            log.warning("the translation cache could not be read: %s", exc)
            return None
        return found.decode() if isinstance(found, bytes) else None

    def put(self, key: str, text: str) -> None:
        try:
            self._redis.set(self._prefix + key, text.encode(), ex=self._ttl)
        except redis.RedisError as exc:
            log.warning("the translation cache could not be written: %s", exc)


def make_cache(redis_url: str | None, prefix: str) -> TranslationCache:
    """Redis at `redis_url` (keys starting `prefix`, so deployments sharing it keep apart), or
    this process's memory."""
    return RedisCache(redis_url, prefix) if redis_url else MemoryCache()
