"""Idempotency keys for unsafe requests (checkout, partner listing syncs).

The same key with the same body returns the stored answer, even when the
first attempt crashed half way (the action resumes from what it recorded);
the same key with another body is refused (422); a concurrent duplicate gets
409. Keys are kept `IDEMPOTENCY_TTL_HOURS` (at least 24 h).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO, Any

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import UtcDateTime
from marketplace.kernel.errors import BadRequest, Conflict, DomainError, Invalid
from marketplace.kernel.extensions import db

HEADER = "Idempotency-Key"
#: How long an attempt holds its key; after that a retry may take over and resume it.
LOCK = timedelta(seconds=60)
#: Keys are kept at least this long, whatever IDEMPOTENCY_TTL_HOURS says (clients retry for up to a day).
MIN_TTL = timedelta(hours=24)
#: A raw body being fingerprinted stays in memory up to this size, then goes to a temporary file.
SPOOL_IN_MEMORY = 1024 * 1024


class IdempotencyCode:
    MISSING = "idempotency_key_missing"
    REUSED = "idempotency_key_reused"
    IN_PROGRESS = "idempotency_key_in_progress"


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))          # whose key: "user:12", "partner:3"
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))         # in_progress | completed
    locked_until: Mapped[datetime] = mapped_column(UtcDateTime())
    resource_id: Mapped[int | None] = mapped_column(Integer)   # what the action created so far (to resume)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def request_key() -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise BadRequest(IdempotencyCode.MISSING, _("This request needs an Idempotency-Key header."),
                         field=HEADER)
    if len(key) > 255:
        raise Invalid(IdempotencyCode.MISSING, _("The Idempotency-Key header is too long."), field=HEADER)
    return key


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


@contextmanager
def fingerprint_stream(stream: IO[bytes], label: str) -> Iterator[tuple[str, IO[bytes]]]:
    """Fingerprint a raw body too large to parse: gives the digest and a rewound copy to read the body from.

    The body is read once, in chunks: SHA-256 of `label` (the operation, so that a raw body never
    matches another operation's JSON fingerprint under the same key), a newline, then the bytes.
    The copy is in memory up to SPOOL_IN_MEMORY, then a temporary file, removed on leaving.
    """
    digest = hashlib.sha256(label.encode() + b"\n")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as copy:
        for chunk in iter(lambda: stream.read(64 * 1024), b""):
            digest.update(chunk)
            copy.write(chunk)
        copy.seek(0)
        yield digest.hexdigest(), copy


def _claim(session: Session, scope: str, key: str, digest: str) -> IdempotencyRecord:
    moment = now()
    ttl = max(timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"]), MIN_TTL)
    record = IdempotencyRecord(scope=scope, key=key, request_hash=digest, status="in_progress",
                               locked_until=moment + LOCK, created_at=moment, expires_at=moment + ttl)
    session.add(record)
    try:
        session.commit()
        return record
    except IntegrityError:
        session.rollback()
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                            IdempotencyRecord.key == key))
    if record is None:  # expired and swept between our insert and this read
        return _claim(session, scope, key, digest)
    if record.request_hash != digest:
        raise Invalid(IdempotencyCode.REUSED, _("This Idempotency-Key was used with a different request."),
                      field=HEADER)
    if record.status == "completed":
        return record
    if record.locked_until > moment:
        raise Conflict(IdempotencyCode.IN_PROGRESS,
                       _("A request with this Idempotency-Key is still in progress; retry shortly."),
                       headers={"Retry-After": "1"})
    # the earlier attempt died: take its place (only one retry can win this update) and resume
    taken = session.execute(update(IdempotencyRecord)
                            .where(IdempotencyRecord.id == record.id,
                                   IdempotencyRecord.locked_until == record.locked_until)
                            .values(locked_until=moment + LOCK)).rowcount
    session.commit()
    if not taken:
        raise Conflict(IdempotencyCode.IN_PROGRESS,
                       _("A request with this Idempotency-Key is still in progress; retry shortly."),
                       headers={"Retry-After": "1"})
    session.refresh(record)
    return record


def run(session: Session, scope: str, key: str, body: Any,
        action: Callable[[IdempotencyRecord], tuple[int, Any]], *, digest: str | None = None) -> tuple[int, Any]:
    """Run `action` once per (scope, key); replay its stored (status, JSON body) afterwards.

    `action` gets the record: it stores what it created in `record.resource_id`
    (committing with its own work) so that a retry after a crash resumes.
    A domain error (4xx) is stored and replayed like a success.
    The request is told apart by `fingerprint(body)`, or by `digest` when given
    (e.g. from `fingerprint_stream` for a raw body; `body` is then ignored).
    """
    record = _claim(session, scope, key, digest if digest is not None else fingerprint(body))
    if record.status == "completed":
        stored_error = replay_problem(record.response_status, record.response_body)
        if stored_error is not None:
            raise stored_error
        return record.response_status, record.response_body
    try:
        status, response = action(record)
    except DomainError as error:
        session.rollback()
        if error.status >= 500:  # e.g. the payment provider did not answer: a retry may resume at once
            _unlock(session, record)
            raise
        status, response = error.status, {"__problem__": {"code": error.code, "detail": str(error.detail),
                                                          "errors": error.errors, "extra": error.extra}}
        _complete(session, record, status, response)
        raise
    _complete(session, record, status, response)
    return status, response


def _unlock(session: Session, record: IdempotencyRecord) -> None:
    """Give the key up without an answer (what the attempt recorded stays, so that a retry resumes it)."""
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record.id,
                                                    IdempotencyRecord.status == "in_progress")
                    .values(locked_until=now()))
    session.commit()


def _complete(session: Session, record: IdempotencyRecord, status: int, response: Any) -> None:
    record = session.merge(record)
    record.status, record.response_status, record.response_body = "completed", status, response
    session.commit()


def replay_problem(status: int, body: Any) -> DomainError | None:
    """A stored domain error, raised again on replay."""
    if isinstance(body, dict) and "__problem__" in body:
        problem = body["__problem__"]
        error = DomainError(problem["code"], problem["detail"], errors=problem.get("errors"), **problem.get("extra", {}))
        error.status = status
        return error
    return None


def sweep(session: Session) -> int:
    """Forget expired keys (a worker job)."""
    removed = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now())).rowcount
    session.commit()
    return removed
