"""A request body is at most MAX_CONTENT_LENGTH bytes, whether or not it states its length.

A body with a Content-Length over the limit is refused by Werkzeug before it is read (413). A
body without one (`Transfer-Encoding: chunked`, which gunicorn decodes) is read through a
stream that Werkzeug stops at the limit as if the body ended there: the view got the first
MiB of a larger body and stored it (a post cut short, 201). Here that stream reads one byte
further, and that byte is the same 413.
"""

from __future__ import annotations

from typing import IO

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream


def body_too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"the request body is larger than {limit} bytes")


class BodyOfUnstatedLength(LimitedStream):
    """A body of no stated length, read up to `limit` bytes; one more is a 413."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)
        self.allowed = limit

    def readinto(self, buffer: bytearray) -> int | None:  # type: ignore[override]
        size = super().readinto(buffer)
        if self.tell() > self.allowed:
            raise body_too_large(self.allowed)
        return size


class LimitedBodyRequest(Request):
    """Flask's request, whose body stream holds MAX_CONTENT_LENGTH whatever the framing."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        # Werkzeug reads a body of unstated length only from a server that says it ends the
        # stream itself (gunicorn, Werkzeug's own); from any other, it reads none.
        if (
            limit is not None
            and self.content_length is None
            and "wsgi.input_terminated" in self.environ
            and not self.shallow
        ):
            return BodyOfUnstatedLength(self.environ["wsgi.input"], limit)  # type: ignore[return-value]
        return super().stream
