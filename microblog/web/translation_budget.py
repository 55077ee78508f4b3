"""What a translation costs the site: each person's budget of them, and the cache that makes a
translation asked for twice cost nothing.

The budget (RATELIMIT_TRANSLATIONS per signed-in person, counted whether or not the cache has
the answer) is kept in the rate limiter's storage, so it is shared by every worker and server
(Redis at REDIS_URL) exactly as the other limits are, and it is off when they are
(RATELIMIT_ENABLED). As with them, a storage that fails never refuses anyone: the failure is
logged and the translation goes on.
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app
from flask_limiter import Limiter
from limits import parse_many

from microblog.extensions import LIMITER
from microblog.posts.translation_cache import TranslationCache, make_cache

log = logging.getLogger(__name__)
_CACHE = "microblog.translation_cache"
DEFAULT_BUDGET = "30 per minute"


def translation_cache() -> TranslationCache:
    """The app's cache of translations (made on first use: Redis at REDIS_URL, or memory)."""
    extensions = current_app.extensions
    if _CACHE not in extensions:
        config = current_app.config
        prefix = config.get("RATELIMIT_KEY_PREFIX") or "microblog"
        extensions[_CACHE] = make_cache(config.get("REDIS_URL"), prefix)
    cache: TranslationCache = extensions[_CACHE]
    return cache


def spend_translation(user_id: int) -> int | None:
    """Count one translation against `user_id`'s budget: None if it was within it, else the
    seconds until the budget resets."""
    limiter: Limiter | None = current_app.extensions.get(LIMITER)
    if limiter is None or not limiter.enabled:
        return None
    config = current_app.config
    budget = config.get("RATELIMIT_TRANSLATIONS") or DEFAULT_BUDGET
    identity = (config.get("RATELIMIT_KEY_PREFIX", "microblog"), "translations", str(user_id))
    try:
        for limit in parse_many(budget):
            if not limiter.limiter.hit(limit, *identity):
                reset_at, _ = limiter.limiter.get_window_stats(limit, *identity)
                return max(1, math.ceil(reset_at - time.time()))
    except Exception:
        log.warning("the translation budget could not be counted", exc_info=True)
    return None
