"""The console in a real browser: an official's season, a scheduler's meeting, the ministry's
table, refusals, and an axe-core scan of every page (screenshots for README)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.cli import DEMO_PASSWORD
from tests.browser.api import Api
from tests.browser.conftest import assert_accessible, save_screenshot

pytestmark = pytest.mark.browser
SEOUL = ZoneInfo("Asia/Seoul")


def call(client: Api, method: str, path: str, body=None):
    """Call the API as the app would (JSON in, JSON out); returns (status, body)."""
    status, raw, _headers = client.request(method, f"/api/v1{path}", body)
    return status, json.loads(raw) if raw else None


def console_login(page, email: str) -> None:
    page.goto("/console/")
    assert "/console/login" in page.url
    page.get_by_label(re.compile("이메일")).fill(email)
    page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(re.compile(r"/console/$"))


def local(moment: datetime) -> str:
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def citizen_cell(page) -> int:
    cell = page.locator('td[data-stage="implement"][data-mode="citizen"]').first
    return int(cell.inner_text().split()[0])


def test_an_official_runs_an_activity_from_project_to_report(tablet_page, live_server):
    page = tablet_page
    official = Api(live_server, "official@gangnam.example")
    # Let one confirmed participation earn the certificate, as an official may (API).
    status, criteria = call(official, "GET", "/certification-criteria")
    assert status == 200, criteria
    for item in criteria["items"]:
        changed = {"min_participations": 1, "min_stages": 1, "min_hours": None}
        status, body = call(official, "PATCH", f"/certification-criteria/{item['id']}", changed)
        assert status == 200, body

    page.goto("/console/")
    assert_accessible(page)
    save_screenshot(page, "console-login")
    console_login(page, "official@gangnam.example")
    assert_accessible(page)

    page.goto("/console/reports")
    before = citizen_cell(page)

    page.goto("/console/projects")
    assert_accessible(page)
    page.get_by_role("link", name="새 사업").click()
    assert_accessible(page)
    today = datetime.now(SEOUL).date()
    page.get_by_label("제목").fill("브라우저 시험 사업")
    page.get_by_label("분야").select_option("safety")
    page.get_by_label("시작일").fill(str(today - timedelta(days=1)))
    page.get_by_label("종료일").fill(str(today + timedelta(days=60)))
    page.get_by_label("상태").select_option("active")
    page.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"/console/projects/[0-9A-Z]{26}\?saved=1"))
    assert page.locator('[data-mode="unclear"]').count() == 4
    assert_accessible(page)

    page.get_by_role("link", name="새 활동").click()
    now = datetime.now(SEOUL)
    page.get_by_label("단계").select_option("implement")
    page.get_by_label("활동 종류").select_option("field_work")
    page.get_by_label("제목").fill("골목 안전 점검")
    page.get_by_label("시작 일시").fill(local(now - timedelta(minutes=10)))
    page.get_by_label("종료 일시").fill(local(now + timedelta(minutes=110)))
    page.get_by_label("정원").fill("20")
    page.get_by_label("장소").fill("역삼동 주민센터")
    assert_accessible(page)
    page.get_by_role("button", name="저장").click()
    page.wait_for_url(re.compile(r"/console/activities/[0-9A-Z]{26}\?saved=1"))
    activity_id = re.search(r"/activities/([0-9A-Z]{26})", page.url).group(1)

    page.get_by_role("link", name="출석 코드 화면").click()
    page.wait_for_url(re.compile(r"/code$"))
    page.wait_for_load_state("load")
    code = page.locator("[data-code]").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert page.locator(".code-qr img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert_accessible(page)
    save_screenshot(page, "console-check-in-code")
    # The screen reloads itself when its code expires; cancel that pending reload, or it can
    # abort the next navigation (seen once: net::ERR_ABORTED on the goto below).
    page.evaluate("() => { let id = setTimeout(() => {}, 0); while (id > 0) clearTimeout(id--); }")

    citizen = Api(live_server, "citizen2@gangnam.example")
    status, body = call(citizen, "POST", f"/activities/{activity_id}/participations", {})
    assert status == 201, body
    status, body = call(citizen, "POST", f"/activities/{activity_id}/check-in", {"code": code})
    assert status == 200 and body["status"] == "attended", body

    page.goto(f"/console/activities/{activity_id}")
    assert page.locator('tr[data-status="attended"]').count() == 1
    assert_accessible(page)
    page.get_by_role("button", name="출석자 모두 확정").click()
    page.wait_for_url(re.compile(r"confirmed=1"))
    assert page.locator('tr[data-status="confirmed"]').count() == 1
    save_screenshot(page, "console-attendance")

    page.locator('tr[data-status="confirmed"] a').click()
    page.wait_for_url(re.compile(r"/console/citizens/"))
    assert int(page.locator('[data-incentive="points"]').inner_text()) > 0
    assert int(page.locator('[data-incentive="voucher"]').inner_text()) > 0
    assert page.locator('tr[data-certificate-status="active"]').count() == 1
    assert_accessible(page)
    save_screenshot(page, "console-citizen")

    page.goto("/console/reports")
    assert citizen_cell(page) == before + 1
    assert page.locator('#stage-chart svg rect[data-series="citizen"]').count() >= 1
    assert_accessible(page)
    save_screenshot(page, "console-report")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("CSV 내려받기 \\(단계별")).click()
    assert download.value.suggested_filename == "stage-modes.csv"

    page.goto("/console/?lang=en")
    assert page.get_by_role("link", name="Projects").count() >= 1
    page.goto("/console/projects")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_scheduler_runs_a_meeting_from_creation_to_the_door(tablet_page, live_server):
    page = tablet_page
    console_login(page, "scheduler@gangnam.example")
    assert page.get_by_role("link", name="보고서").count() == 0
    page.goto("/console/meetings")
    assert_accessible(page)
    page.get_by_role("link", name="새 회의").click()
    now = datetime.now(SEOUL)
    page.get_by_label("제목").fill("브라우저 시험 회의")
    page.get_by_label("장소").fill("구청 3층 회의실")
    page.get_by_label("시작 일시").fill(local(now + timedelta(minutes=60)))
    page.get_by_label("종료 일시").fill(local(now + timedelta(minutes=180)))
    page.get_by_label("정원").fill("5")
    page.get_by_label("우선 배정 좌석").fill("1")
    page.get_by_label("우선 신청 시작").fill(local(now - timedelta(minutes=60)))
    page.get_by_label("일반 신청 시작").fill(local(now - timedelta(minutes=30)))
    assert_accessible(page)
    page.get_by_role("button", name="만들기").click()
    page.wait_for_url(re.compile(r"/console/meetings/[0-9A-Z]{26}\?saved=1"))
    meeting_id = re.search(r"/meetings/([0-9A-Z]{26})", page.url).group(1)

    citizen = Api(live_server, "citizen2@gangnam.example")
    status, registration = call(citizen, "POST", f"/meetings/{meeting_id}/registrations")
    assert status == 201, registration
    page.reload()
    assert page.locator('tr[data-status="confirmed"]').count() == 1
    assert_accessible(page)
    save_screenshot(page, "console-meeting")
    page.get_by_role("button", name="알림 보내기").click()
    page.wait_for_url(re.compile(r"reminded=1"))

    page.get_by_role("link", name="오늘의 출입 명단").click()
    assert page.locator("#live-count").inner_text().strip() == "0 / 1"
    page.get_by_label("입장권 코드").fill(registration["ticket"])
    page.get_by_role("button", name="입장 확인", exact=True).click()
    page.wait_for_url(re.compile(r"checked="))
    assert page.locator("#live-count").inner_text().strip() == "1 / 1"
    assert page.locator("[data-checked-in]").count() == 1
    assert_accessible(page)
    save_screenshot(page, "console-door")


def test_the_ministry_reads_the_table_for_the_country(tablet_page):
    page = tablet_page
    console_login(page, "analyst@mois.example")
    page.goto("/console/reports")
    captions = page.locator("caption").all_inner_texts()
    assert any("전국 합계" in c for c in captions)
    assert any("강남구" in c for c in captions) and any("수원시" in c for c in captions)
    assert page.get_by_role("link", name="새 사업").count() == 0
    assert_accessible(page)
    save_screenshot(page, "console-ministry-report")


def test_citizens_and_other_municipalities_are_refused(page, live_server):
    page.goto("/console/login")
    page.get_by_label(re.compile("이메일")).fill("citizen1@gangnam.example")
    page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
    with page.expect_response(re.compile(r"/console/login$")) as answer:
        page.get_by_role("button", name="로그인").click()
    assert answer.value.status == 403
    assert "시민은 앱을 이용해 주세요" in page.locator("main").inner_text()
    assert_accessible(page)
    assert page.goto("/console/projects").url.endswith("/console/login?next=/console/projects")

    official = Api(live_server, "official@gangnam.example")
    status, projects = call(official, "GET", "/projects")
    project_id = projects["items"][0]["id"]
    console_login(page, "official@suwon.example")
    assert page.goto(f"/console/projects/{project_id}").status == 404
    assert_accessible(page)
    page.goto("/console/projects/new")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(
        f"/console/projects/{project_id}/government-work",
        form={"csrf_token": token, "stage": "plan", "title": "남의 사업"},
    )
    assert refused.status == 404
    status, work = call(official, "GET", f"/projects/{project_id}/government-work")
    assert all(w["title"] != "남의 사업" for w in work["items"])


def _scan(page, path: str, screenshot: str | None = None) -> None:
    answer = page.goto(path)
    assert answer.status == 200, f"{path}: {answer.status}"
    assert_accessible(page)
    if screenshot:
        save_screenshot(page, screenshot)


def test_every_other_page_passes_axe(tablet_page, live_server):
    page = tablet_page
    console_login(page, "official@gangnam.example")
    page.goto("/console/projects")
    page.locator("table a").first.click()
    project_path = page.url.split("?")[0].removeprefix(live_server)
    _scan(page, project_path, "console-project")
    _scan(page, f"{project_path}/edit")
    _scan(page, f"{project_path}/surveys")
    page.goto(project_path)
    activity_link = page.locator('a[href^="/console/activities/"]').first
    activity_path = activity_link.get_attribute("href")
    _scan(page, activity_path)
    _scan(page, f"{activity_path}/edit")
    _scan(page, f"{activity_path}/import")
    sheet = page.request.get(f"{activity_path}/sheet.pdf?reason=현장 출석 확인")
    assert sheet.ok and sheet.body().startswith(b"%PDF")
    _scan(page, "/console/committees")
    page.locator("table a").first.click()
    assert_accessible(page)
    save_screenshot(page, "console-committee")
    _scan(page, "/console/certificates", "console-certificates")
    _scan(page, "/console/rewards", "console-rewards")
    _scan(page, "/console/ministry")
    _scan(page, "/console/admin/users")
    _scan(page, "/console/meetings")

    page.context.clear_cookies()
    console_login(page, "admin@demo.example")
    _scan(page, "/console/admin/users")
    _scan(page, "/console/admin/municipalities")
    _scan(page, "/console/admin/audit", "console-audit")
    _scan(page, "/console/admin/audit?action=project.create")
    _scan(page, "/console/reports?lang=en")
