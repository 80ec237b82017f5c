"""Long jobs in the console: start one from a form, watch its progress, read its report.

A bulk confirmation or a sheet import is stored as a job (`backend.jobs`); a small one is run
within the request and answers as before, a big one is run by `flask jobs run` while its page
shows a `<progress>` bar that polls a small JSON status (without JavaScript the page reloads
itself every few seconds). Only officials of the job's municipality see it: the roles of the
API views of the actions a job runs (`mirrors`), and the municipality of the job's row.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from backend.api import participation as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.i18n import error_text, t
from backend.console.pages import done, page
from backend.ids import new_id
from backend.jobs import services
from backend.jobs.models import ConsoleJob, JobStatus
from backend.participation.sheets import NO_CITIZEN

#: How often the page asks for the job's progress (and reloads without JavaScript).
POLL_SECONDS = 2


def request_key() -> str:
    """What makes a retried submit the same job: its Idempotency-Key, else the form's token
    (`job_token`, made when the form was shown); a form without one is never a retry."""
    return (
        request.headers.get("Idempotency-Key")
        or request.form.get("job_token", "").strip()[:128]
        or new_id()
    )


def new_job_token() -> str:
    """A fresh token for a form that starts a job (a hidden field)."""
    return new_id()


def job_answer(job: ConsoleJob, *, refusals_seen: bool = False, **finished_args: Any) -> Response:
    """After starting a job: a job done at once leads back to the activity with the saved
    notice and a link to its report (as before jobs existed), unless rows were refused that
    the official has not seen yet (`refusals_seen`: a previewed sheet); anything else, and
    every job left to the worker, to the job's page."""
    if job.status == JobStatus.DONE and (job.failed == 0 or refusals_seen):
        return done("console.activity", activity_id=job.target_id, job=job.id, **finished_args)
    return redirect(url_for("console.job", job_id=job.id), code=303)


def row_error(code: str | None, message: str | None) -> str:
    """A report row's refusal in the page's language."""
    if code is None:
        return ""
    if code == NO_CITIZEN:
        return t("sheet.no_citizen")
    return error_text(code, message or code)


@bp.route("/jobs/<job_id>")
@mirrors(api.confirm_activity_participations, api.join_activity)
def job(job_id: str) -> Any:
    """A job's progress while it runs, then its per-row report."""
    found = services.get_job(viewer=current_user(), job_id=job_id)
    rows = services.job_rows(found) if found.finished else []
    return page(
        "job.html",
        job=found,
        rows=rows,
        row_error=row_error,
        poll_seconds=POLL_SECONDS,
        job_error=row_error(found.error_code, found.error_message),
    )


@bp.route("/jobs/<job_id>/status")
@mirrors(api.confirm_activity_participations, api.join_activity)
def job_status(job_id: str) -> Any:
    """The job's progress as JSON, for the page's progress bar."""
    found = services.get_job(viewer=current_user(), job_id=job_id)
    response = jsonify(
        {
            "id": found.id,
            "status": found.status.value,
            "done": found.done,
            "total": found.total,
            "failed": found.failed,
            "percent": found.percent,
            "finished": found.finished,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
