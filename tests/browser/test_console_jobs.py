"""Long console jobs in a real browser: a sign-in sheet import and a bulk confirmation run by the
job worker while the page shows their progress, then their reports; reward rule and budget edits.

This module runs its own server (the shared one's settings run small jobs inline) with every job
left to the worker, one row a chunk, and `flask jobs run` beside it, as `make run` starts it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.cli import DEMO_PASSWORD
from tests.browser.api import Api
from tests.browser.conftest import (
    ROOT,
    _free_port,
    _wait_until_up,
    assert_accessible,
    save_screenshot,
    server_environment,
)

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn and the job worker on their own demo database; every job goes to the worker."""
    instance = tmp_path_factory.mktemp("jobs-instance")
    env = server_environment(instance)
    env.update(
        {
            "CONSOLE_JOB_INLINE_ROWS": "0",
            "CONSOLE_JOB_CHUNK_ROWS": "1",
            "JOBS_IDLE_SECONDS": "0.2",
        }
    )
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    log = (instance / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        + ["--timeout", "60", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        flask + ["jobs", "run"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        yield url
    finally:
        for process in (worker, server):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def console_login(page, email: str) -> None:
    page.goto("/console/")
    page.get_by_label(re.compile("이메일")).fill(email)
    page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(re.compile(r"/console/$"))


def _activity_going_on(live_server: str) -> str:
    """A project and an activity that began ten minutes ago (through the API, as staff would)."""
    official = Api(live_server, "official@gangnam.example")
    today = datetime.now(SEOUL).date()
    project = official.call(
        "POST",
        "/api/v1/projects",
        {
            "title": "작업 진행 시험 사업",
            "field": "safety",
            "starts_on": str(today - timedelta(days=1)),
            "ends_on": str(today + timedelta(days=30)),
            "status": "active",
        },
    )
    now = datetime.now(SEOUL)
    activity = official.call(
        "POST",
        f"/api/v1/projects/{project['id']}/activities",
        {
            "stage": "implement",
            "kind": "field_work",
            "title": "골목 환경 점검",
            "starts_at": (now - timedelta(minutes=10)).isoformat(),
            "ends_at": (now + timedelta(minutes=110)).isoformat(),
        },
    )
    return activity["id"]


def _wait_for_done(page) -> None:
    """The job page follows the worker and reloads with the report when the job ends."""
    page.wait_for_url(re.compile(r"/console/jobs/[0-9A-Z]{26}"))
    assert page.locator("progress#job-progress").count() == 1
    page.locator('[data-job-state="done"]').wait_for(timeout=20_000)
    bar = page.locator("progress#job-progress")
    assert bar.get_attribute("value") == bar.get_attribute("max")


def test_an_official_imports_a_sheet_then_confirms_in_bulk_and_sees_the_reports(
    tablet_page, live_server, tmp_path
):
    page = tablet_page
    activity_id = _activity_going_on(live_server)
    console_login(page, "official@gangnam.example")

    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "email,attended\n"
        "citizen1@gangnam.example,1\n"
        "citizen2@gangnam.example,1\n"
        "nobody@example.test,1\n"
        "citizen1@suwon.example,1\n",
        encoding="utf-8",
    )
    page.goto(f"/console/activities/{activity_id}/import")
    page.get_by_label(re.compile("CSV")).set_input_files(str(sheet))
    page.get_by_role("button", name="미리 보기").click()
    assert page.locator('#preview tr[data-ok="yes"]').count() == 2
    page.get_by_role("button", name=re.compile("문제없는 행 가져오기")).click()
    _wait_for_done(page)
    report = page.locator("#job-report tbody tr")
    assert report.count() == 4
    assert page.locator('#job-report tr[data-ok="yes"]').count() == 2
    assert page.locator('#job-report tr[data-ok="no"]').count() == 2
    assert_accessible(page)

    page.get_by_role("link", name="활동으로 돌아가기").click()
    assert page.locator('tr[data-status="attended"]').count() == 2
    page.get_by_role("button", name="출석자 모두 확정").click()
    _wait_for_done(page)
    assert page.locator('#job-report tr[data-ok="yes"]').count() == 2
    assert "2 행 완료" in page.locator("#job-summary").inner_text()
    assert_accessible(page)
    save_screenshot(page, "console-job-report")
    job_url = page.url.split("?")[0]
    page.get_by_role("link", name="활동으로 돌아가기").click()
    assert page.locator('tr[data-status="confirmed"]').count() == 2

    page.goto(f"{job_url}?lang=en")
    assert page.locator('[data-job-state="done"]').inner_text() == "Done"
    assert page.locator('#job-report tr[data-ok="yes"] td').nth(2).inner_text() == "Confirmed"
    assert_accessible(page)


def test_a_job_is_followed_to_its_report_without_javascript(browser, live_server):
    """Without JavaScript the job page still leads to the report (while the job runs, a meta
    refresh reloads it; the unit tests check that tag)."""
    context = browser.new_context(base_url=live_server, locale="ko-KR", java_script_enabled=False)
    page = context.new_page()
    try:
        console_login(page, "official@gangnam.example")
        activity_id = _activity_going_on(live_server)
        citizen = Api(live_server, "citizen2@gangnam.example")
        citizen.call("POST", f"/api/v1/activities/{activity_id}/participations", {})
        page.goto(f"/console/activities/{activity_id}")
        page.locator('input[name="participation_ids"]').first.check()
        page.get_by_role("button", name="선택 항목 확정").click()
        page.wait_for_url(re.compile(r"/console/jobs/[0-9A-Z]{26}"))
        page.locator('[data-job-state="done"]').wait_for(timeout=20_000)
        assert page.locator('#job-report tr[data-ok="yes"]').count() == 1
    finally:
        context.close()


def test_an_official_edits_a_reward_rule_and_a_budget(tablet_page, live_server):
    page = tablet_page
    console_login(page, "official@gangnam.example")
    page.goto("/console/rewards")
    page.locator("#rules").get_by_role(
        "link", name=re.compile("수정: 현장 활동 지역상품권")
    ).click()
    page.wait_for_url(re.compile(r"/console/rewards/rules/[0-9A-Z]{26}/edit"))
    assert_accessible(page)
    page.get_by_label("금액·수량").fill("12000")
    page.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"/console/rewards\?saved=1"))
    assert "12000" in page.locator("#rules").inner_text()

    page.locator("#budgets").get_by_role("link", name=re.compile("수정:")).first.click()
    page.wait_for_url(re.compile(r"/console/rewards/budgets/[0-9A-Z]{26}/edit"))
    assert_accessible(page)
    page.get_by_label("총액").fill("6000000")
    page.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"/console/rewards\?saved=1"))
    assert "6,000,000" in page.locator("#budgets").inner_text()
