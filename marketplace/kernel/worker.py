"""`flask worker`: delivers the outbox and runs the periodic jobs other areas register."""
from __future__ import annotations

import logging
import time
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from marketplace.kernel import outbox
from marketplace.kernel.extensions import db

log = logging.getLogger(__name__)

Job = Callable[[Session], int]
#: `app.extensions` key of the app's periodic jobs: name -> job(session) returning how much work it did.
JOBS = "worker.jobs"


def register(app: Flask, name: str, job: Job) -> None:
    """`job` runs on every pass of this app's worker."""
    app.extensions.setdefault(JOBS, {})[name] = job


def jobs() -> dict[str, Job]:
    return current_app.extensions.get(JOBS, {})


def run_once(session: Session) -> int:
    """One pass: every periodic job, then the outbox until nothing is due. Returns the work done."""
    done = 0
    for name, job in jobs().items():
        try:
            done += job(session)
        except Exception:
            session.rollback()
            log.exception("worker job %s failed; it runs again on the next pass", name)
    done += outbox.drain(session)
    return done


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds to sleep when idle.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Deliver outbox events (search index, webhooks) and run periodic jobs."""
    if once:
        total = 0
        while (done := run_once(db.session)):
            total += done
        click.echo(f"worker: {total} items processed; backlog {outbox.backlog(db.session)}")
        return
    click.echo("worker: running (Ctrl+C stops)")
    app = current_app._get_current_object()
    try:
        while True:
            try:
                with app.app_context():  # a fresh context each pass: per-pass caches (rates, campaigns) never go stale
                    done = run_once(db.session)
            except Exception:  # the database was unreachable or locked too long: the worker lives on
                log.exception("worker pass failed; retrying")
                done = 0
            if not done:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
