"""The pages of the microblog itself: home feed, explore, profiles, following, search."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog.accounts import services as accounts
from microblog.accounts.guessing import TooManyGuesses
from microblog.accounts.models import User
from microblog.accounts.passwords import KdfBusy
from microblog.db import Db
from microblog.errors import DomainError, NotFound, Unavailable
from microblog.extensions import db
from microblog.posts import search as post_search
from microblog.posts import services as posts
from microblog.posts.models import Post
from microblog.posts.search_budget import time_limit
from microblog.social import services as social
from microblog.tasks.executors import current_executor
from microblog.web.feedback import refused_for_now, show_domain_error, translated
from microblog.web.forms import EditProfileForm, EmptyForm, PostForm
from microblog.web.pages import newest_first

bp = Blueprint("main", __name__)


@bp.route("/index", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> str | Response:
    form = PostForm()
    if form.validate_on_submit():
        try:
            posts.create_post(db.session, current_user.user, form.post.data or "")
        except DomainError as exc:
            show_domain_error(exc, form, body="post")
        else:
            flash(_("Your post is now live!"), "success")
            return redirect(url_for("main.index"))
    page = newest_first(posts.feed_of(current_user.id), Post.id)
    return render_template("main/index.html", title=_("Home"), form=form, page=page)


@bp.get("/explore")
@login_required
def explore() -> str:
    page = newest_first(posts.everyone(), Post.id)
    return render_template("main/explore.html", title=_("Explore"), page=page)


@bp.get("/user/<username>")
@login_required
def user(username: str) -> str:
    person = user_or_404(username)
    page = newest_first(posts.posts_by(person.id), Post.id)
    following = person.id != current_user.id and social.is_following(
        db.session, current_user.id, person.id
    )
    return render_template(
        "main/user.html",
        title=person.username,
        person=person,
        page=page,
        following=following,
        form=EmptyForm(),
    )


@bp.get("/user/<username>/popup")
@login_required
def user_popup(username: str) -> str:
    """A small profile card, fetched by the page when a username is hovered."""
    person = user_or_404(username)
    following = person.id != current_user.id and social.is_following(
        db.session, current_user.id, person.id
    )
    return render_template("main/user_popup.html", person=person, following=following)


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
def edit_profile() -> str | Response:
    form = EditProfileForm()
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session,
                current_user.user,
                **_profile_changes(form),
                signed_in_with=current_user.token,
                executor=current_executor(),
                language=str(get_locale() or "en"),
            )
        except DomainError as exc:
            show_domain_error(exc, form, old_password="current_password")
            if isinstance(exc, (TooManyGuesses, KdfBusy)):
                return refused_for_now(exc, _edit_profile_page(form))
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("main.user", username=current_user.username))
    elif request.method == "GET":
        form.username.data = current_user.username
        form.email.data = current_user.email
        form.about_me.data = current_user.about_me
    return _edit_profile_page(form)


def _edit_profile_page(form: EditProfileForm) -> str:
    return render_template("main/edit_profile.html", title=_("Edit profile"), form=form)


def _profile_changes(form: EditProfileForm) -> dict[str, str | None]:
    """What the form asks to change; an address left out is kept, as in the API. The
    current password goes along only with a new password or address: typed in for nothing,
    it is not a request to change the password."""
    new_password = form.password.data or None
    new_email = (form.email.data or "").strip() or None  # left out: kept
    new_address = new_email is not None and new_email.lower() != current_user.email
    return {
        "username": form.username.data or "",
        "email": new_email,
        "about_me": form.about_me.data or "",
        "password": new_password,
        "old_password": (form.current_password.data or None)
        if new_password or new_address
        else None,
    }


@bp.post("/follow/<username>")
@login_required
def follow(username: str) -> Response:
    return _change_following(username, social.follow, _("You are following %(username)s."))


@bp.post("/unfollow/<username>")
@login_required
def unfollow(username: str) -> Response:
    return _change_following(
        username, social.unfollow, _("You are not following %(username)s any more.")
    )


def _change_following(
    username: str, change: Callable[[Db, User, int], User], done: str
) -> Response:
    person = user_or_404(username)
    try:
        change(db.session, current_user.user, person.id)
    except DomainError as exc:
        show_domain_error(exc)
    else:
        flash(done % {"username": person.username}, "success")
    return redirect(url_for("main.user", username=person.username))


@bp.get("/search")
@login_required
def search() -> tuple[str, int]:
    text = request.args.get("q", "")
    kind = "users" if request.args.get("type") == "users" else "posts"
    results, error, status = [], None, 200
    if text.strip():
        finder = post_search.search_users if kind == "users" else post_search.search_posts
        try:
            with time_limit(db.session, current_app.config["SEARCH_TIMEOUT_SECONDS"]):
                results = list(db.session.scalars(finder(db.session, text).limit(50)).unique())
        except DomainError as exc:
            error = translated(exc)
            if isinstance(exc, Unavailable):
                status = 503
    page = render_template(
        "main/search.html", title=_("Search"), q=text, kind=kind, results=results, error=error
    )
    return page, status


def user_or_404(username: str) -> User:
    try:
        return accounts.get_by_username(db.session, username)
    except NotFound:
        abort(404)
