"""Reading a provider request's body: under a hard cap, from Django's stream or the server's de-chunked input."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

#: Largest value a PositiveIntegerField holds on every database.
MAX_SIZE_FIELD = 2**31 - 1
READ_CHUNK = 64 * 1024


@dataclass
class Body:
    """What was read of the request body."""

    data: bytes
    size: int
    too_large: bool


def body_stream(request: HttpRequest) -> Any:
    """Where the body is read from: Django's stream, or the WSGI server's own when it de-chunked the body."""
    # Django reads CONTENT_LENGTH bytes, so a chunked request (no Content-Length) reads as empty. A server
    # that decodes chunked bodies (gunicorn) says so with wsgi.input_terminated: its input then ends where
    # the body ends, and read_body takes from it up to the cap like from any other stream.
    meta = request.META
    if not meta.get("CONTENT_LENGTH") and meta.get("wsgi.input_terminated") and "wsgi.input" in meta:
        return meta["wsgi.input"]
    return request


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client declared (None when absent or garbage: the read cap alone protects us)."""
    try:
        return max(0, min(int(request.META.get("CONTENT_LENGTH") or ""), MAX_SIZE_FIELD))
    except ValueError:
        return None


def read_body(request: HttpRequest, limit: int) -> Body:
    """Read at most limit + 1 bytes; a declared Content-Length over the limit is not read at all."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        return Body(b"", declared, True)
    stream = body_stream(request)
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    data = b"".join(chunks)
    return Body(data[:limit], min(total, MAX_SIZE_FIELD), total > limit)
