"""The job worker loop behind `flask jobs run`: claim a job, run it chunk by chunk, repeat.

Several may run at once (on PostgreSQL, on several machines): a claim is a lease, taken with
SKIP LOCKED, and every chunk re-takes it under a row lock, so two workers never run the same
chunk. SIGTERM stops the worker between chunks and gives its job back at once; a worker that
is killed outright leaves its job to whoever claims it when the lease lapses.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.exc import OperationalError

from backend.errors import DomainError
from backend.jobs.services import (
    chunk_rows,
    claim_job,
    fail_job,
    release_claim,
    run_claimed_chunk,
)

log = logging.getLogger(__name__)


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
