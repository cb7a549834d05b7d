"""Transactional outbox: what another system must see is recorded in the same
transaction as the change, then delivered by `drain` (the worker, or right
after the request in the embedded default). A handler that fails leaves its
events for a later attempt with backoff; nothing is lost.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import JSON, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import UtcDateTime
from marketplace.kernel.extensions import db

log = logging.getLogger(__name__)

Handler = Callable[[Session, list["OutboxEvent"]], None]
#: `app.extensions` key of the app's handlers: topic -> handler(session, events), registered at app start.
HANDLERS = "outbox.handlers"
MAX_BACKOFF = timedelta(minutes=10)
#: How long a request waits for events another drainer holds before it answers anyway (PostgreSQL).
INLINE_WAIT = timedelta(seconds=5)


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


def register(app: Flask, topic: str, handler: Handler) -> None:
    """`handler` delivers `topic`'s events for this app (each app keeps its own handlers)."""
    app.extensions.setdefault(HANDLERS, {})[topic] = handler


def handlers() -> dict[str, Handler]:
    return current_app.extensions.get(HANDLERS, {})


def record(session: Session, topic: str, key: Any, payload: dict | None = None) -> None:
    """Add an event to the caller's transaction (it commits with the change)."""
    session.add(OutboxEvent(topic=topic, key=str(key), payload=payload or {}))


_INSERT = f"INSERT INTO {OutboxEvent.__tablename__}"


def _mark_dirty(_conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    """Whatever wrote the row (ORM flush, Core insert, raw SQL), a request that inserted outbox events
    delivers them before it answers in the embedded default (`drain_after_request`)."""
    if statement.startswith(_INSERT) and has_request_context():
        g.outbox_dirty = True


def deliver_inline(app: Flask) -> None:
    """Embedded default: every request that records outbox events delivers them before it answers."""
    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", _mark_dirty)
    app.after_request(drain_after_request)


def backlog(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None)))


def drain(session: Session, batch_size: int = 500, max_batches: int | None = None) -> int:
    """Deliver due events, oldest first, a batch at a time; returns how many were delivered."""
    delivered = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        query = (select(OutboxEvent)
                 .where(OutboxEvent.processed_at.is_(None), OutboxEvent.available_at <= now())
                 .order_by(OutboxEvent.id).limit(batch_size))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        events = list(session.scalars(query))
        if not events:
            session.commit()
            break
        by_topic: dict[str, list[OutboxEvent]] = defaultdict(list)
        for event in events:
            by_topic[event.topic].append(event)
        failed = False
        registered = handlers()
        for topic, items in by_topic.items():
            handler = registered.get(topic)
            try:
                if handler is None:
                    raise LookupError(f"no handler for outbox topic {topic!r}")
                handler(session, items)
            except Exception as error:  # the handler's system is down or broken: retry later
                failed = True
                log.warning("outbox %s: %d events postponed: %s", topic, len(items), error)
                for event in items:
                    event.attempts += 1
                    event.last_error = f"{type(error).__name__}: {error}"[:2000]
                    event.available_at = now() + min(MAX_BACKOFF, timedelta(seconds=2 ** min(event.attempts, 10)))
                continue
            stamp = now()
            for event in items:
                event.processed_at = stamp
            delivered += len(items)
        session.commit()
        if failed or len(events) < batch_size:
            break
    return delivered


def _wait_for_other_drainers(session: Session) -> bool:
    """PostgreSQL: `drain` skips events another drainer (the worker) holds; wait until it has delivered
    them (at most INLINE_WAIT), so this request's own events are delivered when it answers either way."""
    if session.get_bind().dialect.name != "postgresql":
        return False  # SQLite: drainers take turns under the write lock, nothing is ever skipped
    session.execute(text(f"SET LOCAL lock_timeout = '{int(INLINE_WAIT.total_seconds() * 1000)}ms'"))
    session.execute(select(OutboxEvent.id)
                    .where(OutboxEvent.processed_at.is_(None), OutboxEvent.available_at <= now())
                    .order_by(OutboxEvent.id).with_for_update()).all()
    session.commit()
    return True


def drain_after_request(response):
    """Embedded default: deliver what this request recorded before answering."""
    if g.pop("outbox_dirty", False):
        try:
            drain(db.session)
            if _wait_for_other_drainers(db.session):
                drain(db.session)
        except Exception:  # never fail a committed request over delivery
            log.exception("inline outbox drain failed; the worker will deliver later")
            db.session.rollback()
    return response
