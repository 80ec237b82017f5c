"""Console jobs: a big bulk confirmation or sheet import is stored, run by the worker in chunks
through the participation services, followed on a progress page and reported row by row."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import utcnow
from backend.extensions import db
from backend.jobs import services as jobs
from backend.jobs import worker
from backend.jobs.models import ConsoleJob, ConsoleJobRow, JobStatus
from backend.jobs.worker import JobWorkerSettings, run_one_job, run_worker
from backend.participation import services
from backend.participation.models import Participation, ParticipationStatus, ProjectStage
from backend.permissions import Role
from backend.rewards.models import RewardLedgerEntry

WORKER = JobWorkerSettings(lease_seconds=60, idle_seconds=0, chunk_rows=2)
_JOB_URL = re.compile(r"/console/jobs/([0-9A-Z]{26})$")


@pytest.fixture
def small_inline(app):
    """Jobs of more than 2 rows go to the worker, 2 rows a chunk (the defaults are 50)."""
    saved = {k: app.config.get(k) for k in ("CONSOLE_JOB_INLINE_ROWS", "CONSOLE_JOB_CHUNK_ROWS")}
    app.config.update(CONSOLE_JOB_INLINE_ROWS=2, CONSOLE_JOB_CHUNK_ROWS=2)
    yield
    app.config.update(saved)


@pytest.fixture
def attended(create_user, create_activity, official_for):
    """attended(n) -> (activity, [participations]): n citizens attended a past activity."""

    def make(count: int):
        activity = create_activity(starts_at=utcnow() - timedelta(hours=3))
        official = official_for(activity.municipality_id)
        rows = [
            services.record_participation(
                actor=official,
                activity=activity,
                user_id=create_user(Role.CITIZEN).id,
                attended=True,
            )
            for _ in range(count)
        ]
        db.session.commit()
        return activity, rows

    return make


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _start_bulk(client, form_token, activity, *, job_token="tok-1", headers=None):
    url = f"/console/activities/{activity.id}"
    data = {"csrf_token": form_token(client, url), "all_attended": "1", "hours": "1.5"}
    if job_token:
        data["job_token"] = job_token
    return client.post(f"{url}/confirm", data=data, headers=headers or {})


def test_a_big_bulk_confirmation_runs_in_chunks_with_progress_then_a_report(
    app, small_inline, attended, official_for, create_rule, console_login, form_token
):
    activity, rows = attended(5)
    create_rule(amount=10)
    official = official_for(activity.municipality_id)
    client = console_login(official)
    answer = _start_bulk(client, form_token, activity)
    assert answer.status_code == 303
    job_id = _JOB_URL.search(answer.headers["Location"]).group(1)

    # Stored, not run: nothing confirmed yet, the page shows a progress bar at 0 of 5.
    status = client.get(f"/console/jobs/{job_id}/status").json
    assert status == {
        "id": job_id,
        "status": "queued",
        "done": 0,
        "total": 5,
        "failed": 0,
        "percent": 0,
        "finished": False,
    }
    page = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert '<progress id="job-progress" max="5" value="0"' in page
    assert 'http-equiv="refresh"' in page  # without JavaScript the page reloads itself
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 0
    activity_page = client.get(f"/console/activities/{activity.id}").get_data(as_text=True)
    assert f'href="/console/jobs/{job_id}"' in activity_page and "0 / 5" in activity_page

    # One chunk (2 rows) per transaction: progress moves by the chunk.
    job_id_claimed, claim = worker.claim_job(lease_seconds=60)
    assert job_id_claimed == job_id
    assert worker.run_claimed_chunk(job_id, claim, size=2, lease_seconds=60) is True
    assert client.get(f"/console/jobs/{job_id}/status").json["done"] == 2
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 2
    worker.release_claim(job_id, claim)
    assert run_one_job(WORKER) == job_id

    status = client.get(f"/console/jobs/{job_id}/status").json
    assert status["status"] == "done" and status["done"] == 5 and status["finished"]
    db.session.expire_all()
    assert {(p.status, p.hours) for p in db.session.scalars(sa.select(Participation))} == {
        (ParticipationStatus.CONFIRMED, 1.5)
    }
    stage = db.session.get(ProjectStage, activity.stage_id)
    assert stage.confirmed_count == 5 and stage.confirmed_hours == 7.5
    assert _count(RewardLedgerEntry) == 5  # the same service: rewards follow each confirmation
    page = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert page.count('data-ok="yes"') == 5 and "http-equiv" not in page
    activity_page = client.get(f"/console/activities/{activity.id}").get_data(as_text=True)
    assert 'id="running-jobs"' not in activity_page


def test_a_retried_submit_finds_its_job_instead_of_making_another(
    app, small_inline, attended, official_for, console_login, form_token
):
    activity, _ = attended(3)
    client = console_login(official_for(activity.municipality_id))
    first = _start_bulk(client, form_token, activity, job_token="same-form")
    again = _start_bulk(client, form_token, activity, job_token="same-form")
    assert first.headers["Location"] == again.headers["Location"]
    keyed = _start_bulk(
        client, form_token, activity, job_token=None, headers={"Idempotency-Key": "k-1"}
    )
    keyed_again = _start_bulk(
        client, form_token, activity, job_token=None, headers={"Idempotency-Key": "k-1"}
    )
    assert keyed.headers["Location"] == keyed_again.headers["Location"]
    assert _count(ConsoleJob) == 2


def test_a_worker_killed_mid_chunk_leaves_nothing_doubled(
    app, clock, small_inline, attended, official_for, create_rule, monkeypatch
):
    activity, rows = attended(5)
    create_rule(amount=10)
    official = official_for(activity.municipality_id)
    job = jobs.start_job(
        actor=official,
        kind=jobs.JobKind.BULK_CONFIRM,
        activity=activity,
        items=[p.id for p in rows],
        request_key="kill-test",
        params={"hours": 2.0},
    )
    db.session.commit()
    real = services.confirm_activity_participations
    calls = {"n": 0}

    def killed_on_second_chunk(**kwargs):
        result = real(**kwargs)  # the chunk's writes are made ...
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")  # ... and the process dies before the commit
        return result

    monkeypatch.setattr(
        jobs.participation, "confirm_activity_participations", killed_on_second_chunk
    )
    with pytest.raises(SystemExit):
        run_one_job(WORKER)
    monkeypatch.setattr(jobs.participation, "confirm_activity_participations", real)
    db.session.expire_all()
    assert db.session.get(ConsoleJob, job.id).done == 2  # only the first chunk was committed
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 2

    # The dead worker still holds the lease; once it lapses, another worker resumes at row 2.
    assert run_one_job(WORKER) is None
    clock.advance(seconds=61)
    assert run_one_job(WORKER) == job.id
    db.session.expire_all()
    job = db.session.get(ConsoleJob, job.id)
    assert (job.status, job.done, job.failed) == (JobStatus.DONE, 5, 0)
    assert _count(ConsoleJobRow, ConsoleJobRow.job_id == job.id) == 5
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 5
    assert db.session.get(ProjectStage, activity.stage_id).confirmed_count == 5
    assert _count(RewardLedgerEntry) == 5
    assert _count(AuditEntry, AuditEntry.action == "participation.confirm") == 5


def test_refused_rows_are_reported_and_the_others_confirmed(
    app, small_inline, attended, official_for
):
    activity, rows = attended(4)
    official = official_for(activity.municipality_id)
    services.reject_participation(actor=official, participation=rows[1], reason="자리에 없음")
    db.session.commit()
    job = jobs.start_job(
        actor=official,
        kind=jobs.JobKind.BULK_CONFIRM,
        activity=activity,
        items=[p.id for p in rows] + ["01HZZZZZZZZZZZZZZZZZZZZZZZ"],
        request_key="refusals",
    )
    db.session.commit()
    run_worker(WORKER, stop=threading.Event(), once=True)
    db.session.expire_all()
    job = db.session.get(ConsoleJob, job.id)
    assert (job.status, job.done, job.failed) == (JobStatus.DONE, 5, 2)
    report = {row.line: (row.ok, row.error_code) for row, _name in jobs.job_rows(job)}
    assert report[2] == (False, "illegal_transition")
    assert report[5] == (False, "participation_not_found")
    assert [report[n][0] for n in (1, 3, 4)] == [True, True, True]
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 3


def test_an_official_who_loses_the_role_stops_the_job(app, small_inline, attended, official_for):
    activity, rows = attended(4)
    official = official_for(activity.municipality_id)
    job = jobs.start_job(
        actor=official,
        kind=jobs.JobKind.BULK_CONFIRM,
        activity=activity,
        items=[p.id for p in rows],
        request_key="demoted",
    )
    official.role = Role.SCHEDULER
    db.session.commit()
    run_one_job(WORKER)
    db.session.expire_all()
    job = db.session.get(ConsoleJob, job.id)
    assert (job.status, job.error_code, job.done) == (JobStatus.FAILED, "permission_denied", 0)
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 0


def test_only_officials_of_the_municipality_see_a_job(
    app,
    small_inline,
    attended,
    official_for,
    create_user,
    other_municipality,
    console_login,
    form_token,
):
    activity, _ = attended(3)
    client = console_login(official_for(activity.municipality_id))
    job_url = _start_bulk(client, form_token, activity).headers["Location"]
    colleague = console_login(create_user(Role.OFFICIAL))
    assert colleague.get(job_url).status_code == 200
    stranger = console_login(create_user(Role.OFFICIAL, municipality=other_municipality))
    assert stranger.get(job_url).status_code == 404
    assert stranger.get(f"{job_url}/status").status_code == 404
    scheduler = console_login(create_user(Role.SCHEDULER))
    assert scheduler.get(job_url).status_code == 403
    assert console_login(create_user(Role.ADMIN)).get(job_url).status_code == 403


def test_a_small_bulk_confirmation_runs_inside_the_request(
    app, attended, official_for, console_login, form_token
):
    activity, _ = attended(2)
    client = console_login(official_for(activity.municipality_id))
    answer = _start_bulk(client, form_token, activity)
    assert answer.status_code == 303 and "confirmed=2" in answer.headers["Location"]
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 2
    job = db.session.scalar(sa.select(ConsoleJob))
    assert job.status == JobStatus.DONE and f"job={job.id}" in answer.headers["Location"]


def test_a_big_sheet_import_is_a_job_with_a_per_row_report(
    app,
    small_inline,
    create_activity,
    create_user,
    other_municipality,
    console_login,
    form_token,
    official_for,
):
    activity = create_activity()
    known = create_user(Role.CITIZEN, email="known@example.test")
    by_id = create_user(Role.CITIZEN)
    stranger = create_user(Role.CITIZEN, municipality=other_municipality)
    sheet = (
        f"email,user_id,attended\nknown@example.test,,1\n,{by_id.id},0\n{stranger.email},,1\n,,1\n"
    )
    client = console_login(official_for(activity.municipality_id))
    url = f"/console/activities/{activity.id}/import"
    token = form_token(client, url)
    data = {"csrf_token": token, "step": "import", "text": sheet, "job_token": "sheet-1"}
    answer = client.post(url, data=data)
    job_id = _JOB_URL.search(answer.headers["Location"]).group(1)
    assert client.post(url, data=data).headers["Location"] == answer.headers["Location"]
    assert _count(Participation) == 0
    run_worker(WORKER, stop=threading.Event(), once=True)
    page = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert page.count('data-ok="yes"') == 2 and page.count('data-ok="no"') == 2
    statuses = dict(
        db.session.execute(sa.select(Participation.user_id, Participation.status)).all()
    )
    assert statuses == {
        known.id: ParticipationStatus.ATTENDED,
        by_id.id: ParticipationStatus.REGISTERED,
    }
    # The report names only citizens of this municipality (the stranger by what the sheet said),
    # and the sheet's e-mails are forgotten once the job is done.
    assert stranger.display_name not in page and stranger.email in page
    job = db.session.get(ConsoleJob, job_id)
    assert job.items == []
    subjects = {row.line: row.subject for row, _name in jobs.job_rows(job)}
    assert subjects[2] == "" and subjects[4] == stranger.email
    client.get("/console/?lang=en")
    english = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "No citizen given." in english and "Recorded" in english


def test_finished_jobs_are_purged_after_their_days(app, clock, attended, official_for):
    activity, rows = attended(1)
    official = official_for(activity.municipality_id)
    job = jobs.start_job(
        actor=official,
        kind=jobs.JobKind.BULK_CONFIRM,
        activity=activity,
        items=[rows[0].id],
        request_key="purge",
    )
    db.session.commit()
    assert job.status == JobStatus.DONE
    assert jobs.purge_finished_jobs(older_than=timedelta(days=30)) == 0
    clock.advance(days=31)
    assert jobs.purge_finished_jobs(older_than=timedelta(days=30)) == 1
    assert _count(ConsoleJob) == 0 and _count(ConsoleJobRow) == 0


def test_flask_jobs_run_once_works_through_the_queue(app, small_inline, attended, official_for):
    activity, rows = attended(3)
    job = jobs.start_job(
        actor=official_for(activity.municipality_id),
        kind=jobs.JobKind.BULK_CONFIRM,
        activity=activity,
        items=[p.id for p in rows],
        request_key="cli",
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "Jobs finished: 1." in result.output
    db.session.expire_all()
    assert db.session.get(ConsoleJob, job.id).status == JobStatus.DONE
    assert _count(Participation, Participation.status == ParticipationStatus.CONFIRMED) == 3
