"""One error shape for the whole API: RFC 9457 `application/problem+json`.

Domain code raises a `DomainError` subclass with a stable machine-readable
`code`; the handlers registered here turn it, and every HTTP error Flask or
webargs raise, into a problem document. Views never build error bodies.
"""
from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, Mapping

from flask import Flask, Response, current_app, json
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ErrorCode(StrEnum):
    """Codes shared by every area; each area adds its own enum in its errors.py."""

    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    VALIDATION_ERROR = "validation_error"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    LENGTH_REQUIRED = "length_required"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    411: _l("Length required"),
    413: _l("Request body too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Internal server error"),
    503: _l("Service unavailable"),
}

HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    411: ErrorCode.LENGTH_REQUIRED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    status = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(detail))
        self.code = str(code)
        self.detail = detail
        self.errors = dict(errors or ({field: [detail]} if field else {}))
        self.headers = dict(headers or {})
        self.extra = extra


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unavailable(DomainError):
    """A system we depend on is down; the request may be retried."""

    status = 503


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule: 422, naming the field."""

    status = 422


def problem(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    title = TITLES.get(status) or HTTPException.__dict__.get("name", "Error")
    body: dict[str, Any] = {
        "type": f"urn:buybrics:problem:{code}",
        "title": str(title),
        "status": status,
        "detail": str(detail) if detail else str(title),
        "code": str(code),
    }
    if errors:
        body["errors"] = {key: [str(m) for m in msgs] for key, msgs in errors.items()}
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs/marshmallow nested messages into {"field.sub": [msgs]}.

    The request location level ("json", "query", ...) is dropped, and
    marshmallow's "_schema" becomes the bare location.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            key = str(key)
            if not prefix and key in {"json", "query", "headers", "form", "files", "view_args", "path", "cookies"}:
                flat.update(flatten_messages(value, ""))
                continue
            if key == "_schema":
                name = prefix or "body"
            else:
                name = f"{prefix}.{key}" if prefix else key
            flat.update(flatten_messages(value, name))
    elif isinstance(messages, (list, tuple)):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            flat.setdefault(prefix or "body", []).extend(texts)
        for item in messages:
            if not isinstance(item, str):
                flat.update(flatten_messages(item, prefix))
    elif messages is not None:
        flat.setdefault(prefix or "body", []).append(str(messages))
    return flat


def http_exception_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    messages = data.get("errors") or data.get("messages")
    errors = flatten_messages(messages) if messages else None
    code = HTTP_CODES.get(status, ErrorCode.BAD_REQUEST if status < 500 else ErrorCode.INTERNAL_ERROR)
    # Werkzeug's own descriptions are English only; the translated title says the same.
    detail = data.get("message") or TITLES.get(status) or error.description
    if status == 400 and errors and any("Invalid JSON" in m for msgs in errors.values() for m in msgs):
        code, detail = ErrorCode.INVALID_JSON, _l("The request body is not valid JSON.")
    if status == 422:
        detail = _l("Some fields are invalid: %(fields)s.", fields=", ".join(sorted(errors or {})) or "body")
    if status == 429:
        detail = _l("Too many requests; retry after the time in Retry-After.")
    if status == 413:
        detail = _l("The request body is larger than this endpoint accepts.")
    if status >= 500:
        detail = _l("Something went wrong on our side; the request was not completed.")
    response = problem(status, code, detail, errors=errors, headers=headers)
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


#: SQLSTATE of a unique violation (PostgreSQL), and SQLite's extended result names for one.
UNIQUE_VIOLATION_SQLSTATE = "23505"
SQLITE_UNIQUE_ERRORS = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def is_unique_violation(error: IntegrityError) -> bool:
    orig = error.orig
    if getattr(orig, "sqlstate", None) == UNIQUE_VIOLATION_SQLSTATE:
        return True
    if getattr(orig, "sqlite_errorname", None) in SQLITE_UNIQUE_ERRORS:
        return True
    return "UNIQUE constraint failed" in str(orig)


def unique_violation_problem(error: IntegrityError) -> Response:
    """The last resort for a unique violation no service turned into its own code: 409 `conflict`.

    The session is rolled back first, so the request's later work (and the next request on this
    session) starts clean. Services still raise their own codes for the conflicts they know."""
    sqlalchemy = current_app.extensions.get("sqlalchemy")
    if sqlalchemy is not None:
        sqlalchemy.session.rollback()
    if not is_unique_violation(error):
        log.exception("Integrity error", exc_info=error)
        return http_exception_problem(InternalServerError())
    log.warning("Unique violation answered as a conflict: %s", error.orig)
    return problem(409, ErrorCode.CONFLICT, _l("This conflicts with something that already exists; "
                                                "nothing was changed."))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        return problem(error.status, error.code, error.detail, errors=error.errors,
                       headers=error.headers, extra=error.extra)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        return http_exception_problem(error)

    app.register_error_handler(IntegrityError, unique_violation_problem)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_exception_problem(error)
        log.exception("Unhandled error", exc_info=error)
        return http_exception_problem(InternalServerError())
