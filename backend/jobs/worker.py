"""The job worker loop behind `flask jobs run`: claim a job, run it chunk by chunk, repeat.

The worker owns its transactions (it commits each claim and each chunk); the services only
flush. Several may run at once (on PostgreSQL, on several machines): a claim is a lease, taken with
SKIP LOCKED, and every chunk re-takes it under a row lock, so two workers never run the same
chunk. SIGTERM stops the worker between chunks and gives its job back at once; a worker that
is killed outright leaves its job to whoever claims it when the lease lapses.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import OperationalError

from backend.clock import utcnow
from backend.errors import DomainError
from backend.extensions import db
from backend.ids import new_id
from backend.jobs.models import ConsoleJob, JobStatus
from backend.jobs.services import chunk_rows, fail, run_chunk

log = logging.getLogger(__name__)
_JOBS = ConsoleJob.__table__


@dataclass(frozen=True)
class JobWorkerSettings:
    """How the worker claims and waits; `from_config` reads the JOBS_* keys."""

    lease_seconds: float = 120.0
    idle_seconds: float = 1.0
    chunk_rows: int = 50

    @classmethod
    def from_config(cls) -> JobWorkerSettings:
        """The settings of the running app."""
        config = current_app.config
        return cls(
            lease_seconds=float(config.get("JOBS_LEASE_SECONDS", 120.0)),
            idle_seconds=float(config.get("JOBS_IDLE_SECONDS", 1.0)),
            chunk_rows=chunk_rows(),
        )


def claim_job(*, lease_seconds: float) -> tuple[str, str] | None:
    """Take the oldest unfinished job nobody holds (or whose holder's lease lapsed) and commit;
    returns (job id, claim id), or None when no job waits."""
    now = utcnow()
    free = sa.or_(_JOBS.c.claimed_until.is_(None), _JOBS.c.claimed_until < now)
    oldest = (
        sa.select(_JOBS.c.id)
        .where(_JOBS.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]), free)
        .order_by(_JOBS.c.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    claim = new_id()
    try:
        taken = db.session.execute(
            sa.update(_JOBS)
            .where(_JOBS.c.id == oldest.scalar_subquery(), free)
            .values(
                claim_id=claim,
                claimed_until=now + timedelta(seconds=lease_seconds),
                status=JobStatus.RUNNING.value,
                started_at=sa.func.coalesce(_JOBS.c.started_at, now),
            )
            .returning(_JOBS.c.id)
        ).scalar()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return None if taken is None else (taken, claim)


def run_claimed_chunk(job_id: str, claim_id: str, *, size: int, lease_seconds: float) -> bool:
    """Run the next chunk of a job this worker holds, in its own transaction, and commit;
    returns whether rows are left (False too when the claim was lost to another worker)."""
    try:
        # Re-taking the lease first locks the job row until this chunk commits.
        renewed = db.session.execute(
            sa.update(_JOBS)
            .where(
                _JOBS.c.id == job_id,
                _JOBS.c.claim_id == claim_id,
                _JOBS.c.status == JobStatus.RUNNING.value,
            )
            .values(claimed_until=utcnow() + timedelta(seconds=lease_seconds))
        )
        if renewed.rowcount != 1:
            db.session.rollback()
            return False
        job = db.session.get(ConsoleJob, job_id, populate_existing=True)
        run_chunk(job, size=size)
        more = not job.finished
        db.session.commit()
        return more
    except BaseException:
        db.session.rollback()
        raise


def release_claim(job_id: str, claim_id: str) -> None:
    """Give a job back at once (a worker stopping between chunks), and commit."""
    db.session.execute(
        sa.update(_JOBS)
        .where(_JOBS.c.id == job_id, _JOBS.c.claim_id == claim_id)
        .values(claim_id=None, claimed_until=None)
    )
    db.session.commit()


def fail_job(job_id: str, error: DomainError) -> None:
    """Stop a job the worker cannot run (an unexpected error), with the reason, and commit."""
    job = db.session.get(ConsoleJob, job_id, populate_existing=True)
    if job is not None and not job.finished:
        fail(job, error)
    db.session.commit()


def run_one_job(settings: JobWorkerSettings, stop: threading.Event | None = None) -> str | None:
    """Claim one job and run it to its end (or until `stop`); returns its id, None if none."""
    claimed = claim_job(lease_seconds=settings.lease_seconds)
    if claimed is None:
        return None
    job_id, claim = claimed
    try:
        while run_claimed_chunk(
            job_id, claim, size=settings.chunk_rows, lease_seconds=settings.lease_seconds
        ):
            if stop is not None and stop.is_set():
                release_claim(job_id, claim)
                break
    except OperationalError:
        # The database went away: the lease lapses and a worker takes the job up again.
        log.exception("console job %s interrupted; it resumes when its lease lapses", job_id)
    except Exception:
        # A bug or a broken row must not be retried for ever by every worker in turn.
        log.exception("console job %s failed", job_id)
        fail_job(job_id, DomainError("The job stopped on an unexpected error.", code="job_error"))
    return job_id


def run_worker(settings: JobWorkerSettings, *, stop: threading.Event, once: bool = False) -> int:
    """Run jobs until `stop` is set (or, with `once`, until none waits); returns how many."""
    count = 0
    while not stop.is_set():
        if run_one_job(settings, stop) is None:
            if once:
                break
            stop.wait(settings.idle_seconds)
            continue
        count += 1
    return count
