"""Exporting one's posts from the site: start, watch the progress, download the file."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from microblog.errors import DomainError, Gone, NotFound
from microblog.extensions import db
from microblog.tasks.executors import current_executor
from microblog.tasks.models import Task
from microblog.tasks.services import get_task, result_available, start_task, task_result
from microblog.web.feedback import show_domain_error, translated

bp = Blueprint("exports", __name__)


@bp.post("/export")
@login_required
def start() -> BaseResponse:
    try:
        task = start_task(db.session, current_user.user, "export_posts", current_executor())
    except DomainError as exc:
        show_domain_error(exc)
        return redirect(url_for("main.user", username=current_user.username))
    return redirect(url_for("exports.show", task_id=task.id))


@bp.get("/export/<task_id>")
@login_required
def show(task_id: str) -> str:
    task = _task_or_404(task_id)
    return render_template(
        "main/export.html",
        title=_("Export my posts"),
        task=task,
        available=result_available(task),
        expired=task.has_result and not result_available(task),
    )


@bp.get("/export/<task_id>/status")
@login_required
def status(task_id: str) -> Response:
    """Polled by the progress bar."""
    task = _task_or_404(task_id)
    return jsonify(
        progress=task.progress,
        complete=task.complete,
        error=task.error,
        download=url_for("exports.download", task_id=task.id) if result_available(task) else None,
    )


@bp.get("/export/<task_id>/download")
@login_required
def download(task_id: str) -> Response:
    try:
        data = task_result(db.session, current_user.user, task_id)
    except NotFound:
        abort(404)
    except DomainError as exc:
        status = 410 if isinstance(exc, Gone) else 409
        return Response(translated(exc), status=status, mimetype="text/plain")
    filename = f"microblog-{current_user.username}-posts.json"
    return Response(
        data,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _task_or_404(task_id: str) -> Task:
    try:
        return get_task(db.session, current_user.user, task_id)
    except NotFound:
        abort(404)
