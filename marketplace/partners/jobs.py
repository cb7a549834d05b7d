"""Sync jobs: a JSON Lines upload (one listing per line) stored as a job, synced by the worker chunk by chunk
with the same rules and results as `PUT /partner/listings`, each line's result kept for the partner to page."""
from __future__ import annotations

import json
import logging
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from marketplace.kernel.clock import now
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.pagination import paginate
from marketplace.partners import results as outcome
from marketplace.partners.errors import PartnerErrorCode, PayloadTooLarge
from marketplace.partners.listings import sync_listings
from marketplace.partners.models import JobStatus, ListingSyncJob, ListingSyncJobLine

log = logging.getLogger(__name__)


def create_job(session: Session, partner_id: int, stream: IO[bytes], max_lines: int,
               record: IdempotencyRecord | None = None) -> ListingSyncJob:
    """Store an uploaded JSON Lines body (one listing per line; blank lines skipped) as a pending job.

    With an idempotency `record`, the job's id is committed into it with the job: a retry of an
    attempt that died after that commit gets the same job instead of a second one.
    """
    if record is not None and record.resource_id is not None:
        job = session.get(ListingSyncJob, record.resource_id)
        if job is not None:
            return job
    job = ListingSyncJob(partner_id=partner_id, status=JobStatus.PENDING, total=0, processed=0, cursor_line=0,
                         counts={s: 0 for s in outcome.STATUSES})
    session.add(job)
    session.flush()
    rows: list[dict[str, Any]] = []
    total = number = 0
    for raw in iter(stream.readline, b""):
        number += 1
        raw = raw.strip()
        if not raw:
            continue
        total += 1
        if total > max_lines:
            session.rollback()
            raise PayloadTooLarge(PartnerErrorCode.TOO_MANY_LISTINGS,
                                  _("A sync job holds at most %(n)s listings.", n=max_lines), field="body")
        try:
            text = raw.decode("utf-8")
            if "\x00" in text:
                raise UnicodeError
        except UnicodeError:
            session.rollback()
            raise Invalid(PartnerErrorCode.INVALID_LINE, _("Line %(n)s is not valid UTF-8 text.", n=number),
                          field="body") from None
        rows.append({"job_id": job.id, "line": number, "payload": text, "status": "pending"})
        if len(rows) >= 5000:
            session.execute(insert(ListingSyncJobLine), rows)
            rows = []
    if rows:
        session.execute(insert(ListingSyncJobLine), rows)
    if not total:
        session.rollback()
        raise Invalid(PartnerErrorCode.EMPTY_JOB, _("The body holds no listings (one JSON object per line)."),
                      field="body")
    job.total = total
    if record is not None:
        record.resource_id = job.id
        session.merge(record)
    session.commit()
    return job


def own_job(session: Session, partner_id: int, job_id: int) -> ListingSyncJob:
    job = session.get(ListingSyncJob, job_id)
    if job is None or job.partner_id != partner_id:
        raise NotFound(PartnerErrorCode.JOB_NOT_FOUND, _("No such sync job."))
    return job


def jobs_of(session: Session, partner_id: int, page: int, per_page: int) -> dict[str, Any]:
    """The partner's jobs, newest first."""
    query = select(ListingSyncJob).where(ListingSyncJob.partner_id == partner_id).order_by(ListingSyncJob.id.desc())
    return paginate(session, query, page, per_page)


def job_results(session: Session, job: ListingSyncJob, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    query = select(ListingSyncJobLine).where(ListingSyncJobLine.job_id == job.id,
                                             ListingSyncJobLine.status != "pending")
    if status:
        query = query.where(ListingSyncJobLine.status == status)
    lines = paginate(session, query.order_by(ListingSyncJobLine.line), page, per_page)
    results = [{"line": line.line, "external_id": line.external_id, "status": line.status,
                "product_id": line.product_id, "errors": line.errors,
                **({"code": line.code} if line.code else {})} for line in lines["items"]]
    return {"id": job.id, "status": job.status, "total": job.total, "processed": job.processed,
            "counts": job.counts, "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "error": job.error, "results": results, "page": page,
            "per_page": per_page, "results_total": lines["total"]}


#: Limits on one job line's JSON: nesting depth, digits in a number.
MAX_LINE_DEPTH = 32
MAX_NUMBER_DIGITS = 40


class _BadLine(ValueError):
    """Why a job line cannot be a listing (its `invalid_line` result says so)."""


def _number(text: str, kind: type) -> Any:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _BadLine(_("A number in this line has more than %(n)s digits.", n=MAX_NUMBER_DIGITS))
    return kind(text)


def _constant(name: str) -> Any:
    raise _BadLine(_("This line holds %(name)s, which is not a JSON number.", name=name))


def _check_parsed(value: Any) -> None:
    """Depth and text checks over a parsed line, without recursion (any depth the parser accepted)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_LINE_DEPTH:
            raise _BadLine(_("This line is nested deeper than %(n)s levels.", n=MAX_LINE_DEPTH))
        if isinstance(item, str):
            if "\x00" in item:
                raise _BadLine(_("Text in this line holds a NUL character."))
        elif isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def parse_line(payload: str) -> dict[str, Any]:
    """A job line as a listing object, or _BadLine saying why it cannot be one: not JSON, nested too deep
    (however deep: the parser's own recursion limit is caught too), numbers with too many digits, NaN or
    Infinity, NUL characters, or JSON that is not an object."""
    if not payload:
        raise _BadLine(_("This line is empty."))
    try:
        value = json.loads(payload, parse_int=lambda text: _number(text, int),
                           parse_float=lambda text: _number(text, float), parse_constant=_constant)
    except _BadLine:
        raise
    except RecursionError:
        raise _BadLine(_("This line is nested deeper than %(n)s levels.", n=MAX_LINE_DEPTH)) from None
    except ValueError:
        raise _BadLine(_("This line is not valid JSON.")) from None
    _check_parsed(value)
    if not isinstance(value, dict):
        raise _BadLine(_("Each line must be one JSON object (a listing)."))
    return value


def _invalid_line(reason: str) -> dict[str, Any]:
    return outcome.error(None, PartnerErrorCode.INVALID_LINE, {"body": [reason]})


def _job_chunk(session: Session, job_id: int, partner_id: int, lines: list[Any]) -> None:
    """Sync `lines` [(id, line number, payload)] of a job and record their results and the job's progress;
    commits. Lines that cannot be listings get `invalid_line` with the reason; the others go through
    `sync_listings` (the same rules and results as PUT), in the same transaction as the progress."""
    items: list[Any] = []
    bad: dict[int, str] = {}
    for index, (_id, _line, payload) in enumerate(lines):
        try:
            items.append(parse_line(payload))
        except _BadLine as reason:
            bad[index] = str(reason)
            items.append({})

    def record_progress(results: list[dict]) -> None:
        for index, reason in bad.items():
            results[index] = _invalid_line(reason)
        table = ListingSyncJobLine.__table__
        session.execute(
            table.update().where(table.c.id == bindparam("line_id")).values(
                status=bindparam("r_status"), external_id=bindparam("r_external_id"),
                product_id=bindparam("r_product_id"), errors=bindparam("r_errors"), code=bindparam("r_code")),
            [{"line_id": line_id, "r_status": r["status"], "r_external_id": (r["external_id"] or "")[:128] or None,
              "r_product_id": r["product_id"], "r_errors": r["errors"], "r_code": r.get("code")}
             for (line_id, _line, _payload), r in zip(lines, results)])
        current = session.get(ListingSyncJob, job_id)
        counts = dict(current.counts or {})
        for status, n in outcome.summary(results).items():
            counts[status] = counts.get(status, 0) + n
        current.counts = counts
        current.processed += len(results)
        current.cursor_line = lines[-1][1]
        current.status = JobStatus.RUNNING
        current.started_at = current.started_at or now()
        if current.processed >= current.total:
            current.status, current.finished_at = JobStatus.COMPLETED, now()

    sync_listings(session, partner_id, items, before_commit=record_progress)


def _lock_job(session: Session, job_id: int) -> ListingSyncJob | None:
    return session.scalar(select(ListingSyncJob).where(ListingSyncJob.id == job_id).with_for_update()
                          .execution_options(populate_existing=True))


def _job_line_by_line(session: Session, job_id: int, partner_id: int, lines: list[Any]) -> None:
    """A chunk that failed as a whole, again one line at a time: a line that still fails is `invalid_line`
    with the reason, and the others are synced as usual. Each step re-locks the job and skips lines another
    worker recorded meanwhile."""
    for line in lines:
        job = _lock_job(session, job_id)
        if job is None or job.status not in (JobStatus.PENDING, JobStatus.RUNNING) or job.cursor_line >= line[1]:
            session.rollback()
            continue
        try:
            _job_chunk(session, job_id, partner_id, [line])
        except Exception as error:  # noqa: BLE001 - any failure of one line is that line's result
            session.rollback()
            log.warning("sync job %s line %s failed: %r", job_id, line[1], error)
            if _lock_job(session, job_id) is None:
                session.rollback()
                return
            reason = _("This line could not be processed (%(error)s).", error=type(error).__name__)
            _record_failed_line(session, job_id, line, reason)


def _record_failed_line(session: Session, job_id: int, line: Any, reason: str) -> None:
    result = _invalid_line(reason)
    table = ListingSyncJobLine.__table__
    session.execute(table.update().where(table.c.id == line[0])
                    .values(status=result["status"], code=result["code"], errors=result["errors"]))
    job = session.get(ListingSyncJob, job_id)
    counts = dict(job.counts or {})
    counts["error"] = counts.get("error", 0) + 1
    job.counts, job.processed, job.cursor_line = counts, job.processed + 1, line[1]
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or now()
    if job.processed >= job.total:
        job.status, job.finished_at = JobStatus.COMPLETED, now()
    session.commit()


def _fail_job(session: Session, job_id: int, reason: str) -> None:
    session.rollback()
    job = _lock_job(session, job_id)
    if job is not None and job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        job.status, job.error, job.finished_at = JobStatus.FAILED, reason[:1000], now()
        job.started_at = job.started_at or job.finished_at
    session.commit()


def process_sync_jobs(session: Session, chunk_size: int | None = None) -> int:
    """Worker job: the next chunk of the oldest unfinished sync job, committed with its progress.

    Returns the number of lines processed (0 when no job waits). A line that cannot be a listing, or whose
    processing fails, gets `invalid_line` with the reason and the job goes on; a job that cannot go on at
    all is marked `failed` with the reason, so it never holds up the jobs queued behind it (any partner's)."""
    chunk_size = chunk_size or current_app.config.get("PARTNER_JOB_CHUNK", 1000)
    query = (select(ListingSyncJob).where(ListingSyncJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
             .order_by(ListingSyncJob.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalar(query)
    if job is None:
        session.commit()
        return 0
    job_id, partner_id, cursor_line = job.id, job.partner_id, job.cursor_line
    try:
        lines = session.execute(select(ListingSyncJobLine.id, ListingSyncJobLine.line, ListingSyncJobLine.payload)
                                .where(ListingSyncJobLine.job_id == job_id, ListingSyncJobLine.line > cursor_line)
                                .order_by(ListingSyncJobLine.line).limit(chunk_size)).all()
        if not lines:
            job.status, job.finished_at = JobStatus.COMPLETED, now()
            job.started_at = job.started_at or job.finished_at
            session.commit()
            return 0
        try:
            _job_chunk(session, job_id, partner_id, lines)
        except Exception as error:  # noqa: BLE001 - find the line(s) at fault instead of failing every pass
            session.rollback()
            log.warning("sync job %s: a chunk failed (%r); processing it line by line", job_id, error)
            _job_line_by_line(session, job_id, partner_id, lines)
        return len(lines)
    except Exception as error:  # noqa: BLE001 - this job cannot go on; the others must
        log.exception("sync job %s failed", job_id)
        try:
            _fail_job(session, job_id, _("The job stopped: %(error)s.", error=type(error).__name__))
        except Exception:  # noqa: BLE001 - e.g. the database itself is gone: the worker logs it and retries
            session.rollback()
            raise
        return 1
