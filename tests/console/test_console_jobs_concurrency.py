"""Console jobs under real concurrency: several workers on one queue, one submit sent twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import utcnow
from backend.extensions import db
from backend.jobs import services as jobs
from backend.jobs.models import ConsoleJob, ConsoleJobRow, JobKind, JobStatus
from backend.jobs.worker import JobWorkerSettings, run_worker
from backend.participation import services
from backend.participation.models import Participation, ParticipationStatus, ProjectStage
from backend.permissions import Role
from tests.concurrency import in_parallel
from tests.console.conftest import csrf_of
from tests.fixtures.identity import PASSWORD

# Threads with their own connections and sessions: real commits (tests/conftest.py).
pytestmark = pytest.mark.real_commits


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _attended_activity(create_user, create_activity, official, count):
    activity = create_activity(starts_at=utcnow() - timedelta(hours=3))
    ids = [
        services.record_participation(
            actor=official,
            activity=activity,
            user_id=create_user(Role.CITIZEN).id,
            attended=True,
        ).id
        for _ in range(count)
    ]
    db.session.commit()
    return activity, ids


def test_three_workers_share_the_queue_and_no_row_is_done_twice(
    app, ctx, create_user, create_activity, official_for, create_project
):
    official = None
    made = []
    for _ in range(3):
        project = create_project()
        official = official or official_for(project.municipality_id)
        made.append(_attended_activity(create_user, create_activity, official, 5))
    app.config.update(CONSOLE_JOB_INLINE_ROWS=0, CONSOLE_JOB_CHUNK_ROWS=2)  # all to the workers
    for number, (activity, ids) in enumerate(made):
        jobs.start_job(
            actor=official,
            kind=JobKind.BULK_CONFIRM,
            activity=activity,
            items=ids,
            request_key=f"parallel-{number}",
        )
    db.session.commit()
    settings = JobWorkerSettings(lease_seconds=60, idle_seconds=0, chunk_rows=2)
    try:
        results = in_parallel(
            app, 3, lambda _client, _slot: run_worker(settings, stop=threading.Event(), once=True)
        )
    finally:
        app.config.update(CONSOLE_JOB_INLINE_ROWS=50, CONSOLE_JOB_CHUNK_ROWS=50)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 3  # every job run once, by one worker
    db.session.expire_all()
    statuses = set(db.session.scalars(sa.select(ConsoleJob.status)))
    assert statuses == {JobStatus.DONE}
    assert _count(ConsoleJobRow) == 15
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 15
    assert _count(AuditEntry, AuditEntry.action == "participation.confirm") == 15
    for activity, _ids in made:
        assert db.session.get(ProjectStage, activity.stage_id).confirmed_count == 5


def test_a_submit_sent_twice_at_once_makes_one_job(
    app, ctx, create_user, create_activity, official_for, create_project
):
    project = create_project()
    official = official_for(project.municipality_id)
    activity, _ids = _attended_activity(create_user, create_activity, official, 3)
    app.config["CONSOLE_JOB_INLINE_ROWS"] = 0  # left to the worker: the request only stores it

    def submit(client, _slot):
        page = client.get("/console/login")
        client.post(
            "/console/login",
            data={
                "identifier": official.email,
                "password": PASSWORD,
                "csrf_token": csrf_of(page.get_data(as_text=True)),
            },
        )
        url = f"/console/activities/{activity.id}"
        token = csrf_of(client.get(url).get_data(as_text=True))
        answer = client.post(
            f"{url}/confirm",
            data={"csrf_token": token, "all_attended": "1", "job_token": "double-click"},
        )
        return answer.status_code, answer.headers.get("Location")

    try:
        results = in_parallel(app, 2, submit)
    finally:
        app.config["CONSOLE_JOB_INLINE_ROWS"] = 50
    assert [r[0] for r in results] == [303, 303], results
    assert results[0][1] == results[1][1]
    assert _count(ConsoleJob) == 1
