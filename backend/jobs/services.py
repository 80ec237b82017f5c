"""Starting, running and reading console jobs.

Guarantees:
- **One job per submit.** A job is keyed by (who asked, the form's token or Idempotency-Key):
  a retried or double-clicked submit finds the job it made instead of making a second one.
- **Every row once.** A chunk's domain writes, its report rows and the job's `done` counter
  are committed in one transaction, and the chunk begins by re-taking the job under its claim
  (an UPDATE that locks the row until commit). A worker killed mid-chunk leaves nothing of that
  chunk; when its lease lapses another worker starts again at `done`. The report rows' key
  (job, position) would refuse a doubled row anyway.
- **Same rules as the one-by-one action.** Rows go through the participation services, as
  the official who started the job: reloaded for every chunk, so a demotion, a deactivation or
  a move to another municipality stops the job (failed, with the reason) at the next chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from backend.audit.services import record_audit
from backend.clock import utcnow
from backend.errors import DomainError, NotFound, PermissionDenied
from backend.extensions import db
from backend.identity.models import User, account_usable
from backend.ids import new_id
from backend.jobs.models import ConsoleJob, ConsoleJobRow, JobKind, JobStatus
from backend.participation import services as participation
from backend.participation.models import Participation, ParticipationStatus
from backend.participation.sheets import SheetRow, record_sheet_row
from backend.permissions import can_see_row

_JOBS = ConsoleJob.__table__
_ROWS = ConsoleJobRow.__table__


@dataclass
class RowOutcome:
    """What one input row came to."""

    line: int
    subject: str
    user_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


#: kind -> handler(actor, activity, job, items, start) -> one outcome per item, in order.
Handler = Callable[..., list[RowOutcome]]


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def chunk_rows() -> int:
    """Rows per chunk (one transaction each): small enough to keep locks short."""
    return max(1, _setting("CONSOLE_JOB_CHUNK_ROWS", 50))


def inline_rows() -> int:
    """Jobs of at most this many rows run inside the request (one chunk's work, no waiting)."""
    return _setting("CONSOLE_JOB_INLINE_ROWS", 50)


def start_job(
    *,
    actor: User,
    kind: JobKind,
    activity: Any,
    items: Sequence[Any],
    request_key: str,
    params: dict[str, Any] | None = None,
) -> ConsoleJob:
    """Store a job (or find the one this submit already made); small ones are run at once.

    The caller has checked the role (the console page mirrors the API view); the services
    check the official against the activity again for every chunk.
    """
    existing = _job_of_request(actor.id, request_key)
    if existing is not None:
        return existing
    job = ConsoleJob(
        id=new_id(),
        municipality_id=activity.municipality_id,
        created_by=actor.id,
        kind=kind,
        target_id=activity.id,
        request_key=request_key,
        params=params or {},
        items=list(items),
        total=len(items),
        done=0,
        failed=0,
        status=JobStatus.QUEUED,
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:
        # The same submit, a moment earlier, in another request: that job is the one.
        found = _job_of_request(actor.id, request_key)
        if found is None:
            raise
        return found
    record_audit(
        actor=actor,
        action="console_job.start",
        target_type="console_job",
        target_id=job.id,
        municipality_id=job.municipality_id,
        details={"kind": kind.value, "activity_id": activity.id, "total": job.total},
    )
    if job.total <= inline_rows():
        job.status = JobStatus.RUNNING
        job.started_at = utcnow()
        while not job.finished:
            run_chunk(job, size=chunk_rows())
    db.session.flush()
    return job


def _job_of_request(user_id: str, request_key: str) -> ConsoleJob | None:
    return db.session.scalar(
        sa.select(ConsoleJob).where(
            ConsoleJob.created_by == user_id, ConsoleJob.request_key == request_key
        )
    )


def attended_participation_ids(*, activity: Any) -> list[str]:
    """The ids "confirm every attended" means, fixed when the job is made (its total)."""
    return list(
        db.session.scalars(
            sa.select(Participation.id)
            .where(
                Participation.activity_id == activity.id,
                Participation.status == ParticipationStatus.ATTENDED,
            )
            .order_by(Participation.id)
        )
    )


def unfinished_jobs(*, viewer: User, activity: Any) -> list[ConsoleJob]:
    """The activity's jobs still waiting or running (what its page links to), oldest first."""
    if not can_see_row(viewer, activity):
        return []
    return list(
        db.session.scalars(
            sa.select(ConsoleJob)
            .where(
                ConsoleJob.target_id == activity.id,
                ConsoleJob.municipality_id == activity.municipality_id,
                ConsoleJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            )
            .order_by(ConsoleJob.id)
        )
    )


def get_job(*, viewer: User, job_id: str) -> ConsoleJob:
    """A job, for staff of its municipality (national roles read every municipality's)."""
    job = db.session.get(ConsoleJob, job_id)
    if job is None or not can_see_row(viewer, job):
        raise NotFound("Job not found.", code="job_not_found")
    return job


def job_rows(job: ConsoleJob) -> list[tuple[ConsoleJobRow, str | None]]:
    """The job's report so far, in input order, with each row's citizen name."""
    query = (
        sa.select(ConsoleJobRow, User.display_name)
        .outerjoin(User, User.id == ConsoleJobRow.user_id)
        .where(ConsoleJobRow.job_id == job.id)
        .order_by(ConsoleJobRow.position)
    )
    return [(row, name) for row, name in db.session.execute(query).all()]


# ---- running ------------------------------------------------------------------------------


def run_chunk(job: ConsoleJob, *, size: int) -> None:
    """Handle the job's next `size` rows in the current transaction (flushes, never commits).

    A refusal of the whole action (the official lost the right, the activity is gone) fails
    the job with that reason; a refused row is reported and the rest go on.
    """
    actor = db.session.get(User, job.created_by, populate_existing=True)
    start = job.done
    items = job.items[start : start + size]
    try:
        if actor is None or not account_usable(actor):
            raise PermissionDenied("The official who started the job may no longer act.")
        activity = participation.get_activity(viewer=actor, activity_id=job.target_id)
        outcomes = HANDLERS[job.kind](
            actor=actor, activity=activity, job=job, items=items, start=start
        )
    except DomainError as error:
        fail(job, error)
        return
    if outcomes:
        db.session.execute(
            sa.insert(_ROWS),
            [
                {
                    "job_id": job.id,
                    "position": start + offset,
                    "line": outcome.line,
                    "user_id": outcome.user_id,
                    "subject": outcome.subject[:254],
                    "ok": outcome.error_code is None,
                    "error_code": outcome.error_code,
                    "error_message": (outcome.error_message or "")[:500] or None,
                }
                for offset, outcome in enumerate(outcomes)
            ],
        )
    job.done = start + len(items)
    job.failed += sum(1 for outcome in outcomes if outcome.error_code is not None)
    if job.done >= job.total:
        job.status = JobStatus.DONE
        _finish(job)
    db.session.flush()


def fail(job: ConsoleJob, error: DomainError) -> None:
    """Stop a job with the reason (the rows reported so far stay)."""
    job.status = JobStatus.FAILED
    job.error_code = error.code
    job.error_message = error.message[:500]
    _finish(job)
    db.session.flush()


def _finish(job: ConsoleJob) -> None:
    """Forget the input once it has been worked through: a sheet's e-mails and phone numbers
    are not kept beside the accounts they named (the report shows the account's name, which
    follows the account, erasure included)."""
    job.finished_at = utcnow()
    job.claim_id = job.claimed_until = None
    job.items = []
    db.session.execute(
        sa.update(_ROWS)
        .where(_ROWS.c.job_id == job.id, _ROWS.c.user_id.is_not(None))
        .values(subject="")
    )


def purge_finished_jobs(*, older_than: timedelta) -> int:
    """Delete jobs finished longer ago than `older_than`, with their reports; returns how many."""
    cutoff = utcnow() - older_than
    old = sa.select(_JOBS.c.id).where(
        _JOBS.c.status.in_([JobStatus.DONE.value, JobStatus.FAILED.value]),
        _JOBS.c.finished_at < cutoff,
    )
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(sa.delete(_ROWS).where(_ROWS.c.job_id.in_(ids)))
        db.session.execute(sa.delete(_JOBS).where(_JOBS.c.id.in_(ids)))
    return len(ids)


# ---- the kinds ----------------------------------------------------------------------------


def _confirm(
    *, actor: User, activity: Any, job: ConsoleJob, items: list[Any], start: int
) -> list[RowOutcome]:
    """Bulk confirmation: the chunk in one service call (all or nothing, as in the API); when
    one row is refused, each row alone, so the others still go through and the report says
    which failed and why."""
    hours = job.params.get("hours")
    users = dict(
        db.session.execute(
            sa.select(Participation.id, Participation.user_id).where(Participation.id.in_(items))
        ).all()
    )
    outcomes = [
        RowOutcome(line=start + offset + 1, subject=pid, user_id=users.get(pid))
        for offset, pid in enumerate(items)
    ]
    if not items:
        return outcomes
    try:
        with db.session.begin_nested():
            participation.confirm_activity_participations(
                actor=actor, activity=activity, hours=hours, participation_ids=items
            )
        return outcomes
    except PermissionDenied:
        raise
    except DomainError:
        pass
    for outcome in outcomes:
        try:
            with db.session.begin_nested():
                participation.confirm_activity_participations(
                    actor=actor, activity=activity, hours=hours, participation_ids=[outcome.subject]
                )
        except PermissionDenied:
            raise
        except DomainError as error:
            outcome.error_code, outcome.error_message = error.code, error.message
    return outcomes


def _import(
    *, actor: User, activity: Any, job: ConsoleJob, items: list[Any], start: int
) -> list[RowOutcome]:
    """Sheet import: each line through `record_participation`, each in its own savepoint."""
    outcomes = []
    for item in items:
        row = SheetRow.from_item(item)
        record_sheet_row(actor=actor, activity=activity, row=row, keep=True)
        outcomes.append(
            RowOutcome(
                line=row.line,
                subject=row.who,
                user_id=row.user_id,
                error_code=row.error_code,
                error_message=row.error_message,
            )
        )
    return outcomes


HANDLERS: dict[JobKind, Handler] = {
    JobKind.BULK_CONFIRM: _confirm,
    JobKind.SHEET_IMPORT: _import,
}
