"""Small answers fetched by the pages' own script: the unread badge and translations."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.errors import NotFound
from microblog.extensions import db
from microblog.messaging.services import unread_count
from microblog.posts.services import get_post
from microblog.posts.translation import (
    TranslationFailed,
    TranslationTimedOut,
    TranslatorSettings,
    translate,
)
from microblog.web.feedback import translated
from microblog.web.translation_budget import spend_translation, translation_cache

log = logging.getLogger(__name__)
bp = Blueprint("fragments", __name__)


@bp.get("/unread")
@login_required
def unread() -> Response:
    """Polled by the navigation's badge."""
    return jsonify(count=unread_count(db.session, current_user.user))


@bp.get("/translate/<int:post_id>")
@login_required
def translate_post(post_id: int) -> Response | tuple[Response, int]:
    """A post in the reader's language: 429 past their budget, 502 if the service failed, 504
    if it did not answer in time."""
    settings = TranslatorSettings.from_config(current_app.config)
    if not settings.configured:
        return jsonify(error="no translation service is configured"), 404
    retry_after = spend_translation(current_user.user.id)
    if retry_after is not None:
        answer = jsonify(error=_("Too many translations; please try again later."))
        answer.headers["Retry-After"] = str(retry_after)
        return answer, 429
    try:
        post = get_post(db.session, post_id)
        target = str(get_locale() or "en")
        text = translate(settings, post.body, post.language, target, translation_cache())
    except NotFound as exc:
        return jsonify(error=translated(exc)), 404
    except TranslationTimedOut as exc:
        log.warning("translating post %s failed: %s", post_id, exc.message)
        return jsonify(error=_("The translation service did not answer in time.")), 504
    except TranslationFailed as exc:
        # The reader gets a sentence in their language; the cause goes to the log.
        log.warning("translating post %s failed: %s", post_id, exc.message)
        return jsonify(error=_("The translation service failed; please try again later.")), 502
    return jsonify(text=text)
