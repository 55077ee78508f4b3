"""Sending mail: through the SMTP server named by MAIL_SERVER or, without one, into files.

With no MAIL_SERVER (the embedded default) each message is written as an .eml file under
`<instance>/mail/` and its path logged, so a developer can read what would have been sent and
nothing needs a mail server to work. Call from an application context.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app
from flask_mail import Message

from microblog.extensions import mail
from microblog.private_files import private_directory, write_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def init_app(app: Flask) -> None:
    mail.init_app(app)


def send_email(
    to: str | Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> Path | None:
    """Send a plain-text message; returns the file it was written to when there is no server."""
    app = current_app
    recipients = [to] if isinstance(to, str) else list(to)
    message = Message(
        subject=subject,
        recipients=list(recipients),
        body=body,
        sender=app.config["MAIL_DEFAULT_SENDER"],
    )
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content_type, attachment.data)
    if app.config.get("MAIL_SERVER"):
        mail.send(message)
        log.info("mail %r sent to %s", subject, ", ".join(recipients))
        return None
    return _write_to_outbox(Path(app.instance_path) / "mail", message, recipients)


def _write_to_outbox(outbox: Path, message: Message, recipients: list[str]) -> Path:
    # Mail holds reset links and addresses: the server's user alone may read it.
    private_directory(outbox)
    message.date = time.time()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    write_private(path, message.as_bytes())
    log.info(
        "no MAIL_SERVER: mail %r to %s written to %s",
        message.subject,
        ", ".join(recipients),
        path,
    )
    return path
