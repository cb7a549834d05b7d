"""Limits every request meets before a view runs: a URL path and header values without control
characters, and a body never read past the request's size limit, chunked bodies included.

Werkzeug reads a chunked body (no Content-Length) only when the server says it de-chunks it
(`wsgi.input_terminated`, set by gunicorn and Werkzeug's own server), through a stream limited to
`request.max_content_length`, which stops quietly at the limit: a longer body would be read
truncated. Here such a body is read through `CappedStream` instead, which answers 413 as soon as it
goes past the limit (the limit as it stands when reading: a view may raise it). Without the server's
promise Werkzeug gives an empty body; such a request is refused (411) rather than taken for one
without a body.

Registered by `MarketplaceApi.init_app` (marketplace/kernel/openapi.py), beside the JSON limits of the
arguments parser.
"""
from __future__ import annotations

import io
import re
from typing import IO, Callable

from flask import Flask, request
from werkzeug.exceptions import LengthRequired, RequestEntityTooLarge

from marketplace.kernel.errors import BadRequest, ErrorCode

#: C0 and C1 controls, DEL, and lone surrogates: never part of a valid URL path or single-line text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


#: What RFC 9110 forbids in a header value: controls other than horizontal tab, and DEL.
HEADER_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def refuse_control_characters_in_path() -> None:
    if CONTROL_CHARACTERS.search(request.path):
        raise BadRequest(ErrorCode.BAD_REQUEST, "The URL path holds control characters.", field="path")


def refuse_control_characters_in_headers() -> None:
    for name, value in request.headers.items():
        if HEADER_CONTROL_CHARACTERS.search(value):
            raise BadRequest(ErrorCode.BAD_REQUEST, f"The {name} header holds control characters.", field=name)


def is_chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


class CappedStream(io.RawIOBase):
    """A body read at most to `limit()` bytes: reading a byte more raises 413 (RequestEntityTooLarge)."""

    def __init__(self, stream: IO[bytes], limit: Callable[[], int | None]) -> None:
        super().__init__()
        self._stream, self._limit, self._read = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        self._read += len(data)
        limit = self._limit()
        if limit is not None and self._read > limit:
            raise RequestEntityTooLarge()
        buffer[:len(data)] = data
        return len(data)


def cap_chunked_body() -> None:
    if not is_chunked() or request.content_length is not None:
        return
    if not request.environ.get("wsgi.input_terminated"):
        raise LengthRequired("Send the body with a Content-Length; this server cannot read a chunked one.")
    capped = CappedStream(request.environ["wsgi.input"], lambda: request.max_content_length)
    request.stream = io.BufferedReader(capped)  # replaces Werkzeug's stream, which would stop at the limit


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters_in_path)
    app.before_request(refuse_control_characters_in_headers)
    app.before_request(cap_chunked_body)
